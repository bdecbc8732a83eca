/* fuzz/ws.c — WebSocket frame handling on arbitrary bytes: the input arrives as a client's
 * byte stream (part as bytes read past the HTTP request, the rest over a socket), and the
 * connection echoes every message, as the chat does. */
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lm/ws.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Echoes text messages back. */
static void on_msg(struct lm_ws *ws, const char *d, size_t len, void *user)
{
    (void)user;
    lm_ws_send_text(ws, d, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536) return 0; /* stays within the socket buffer: the write must not block */
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) return 0;
    int big = 1 << 20;
    setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    size_t cut = size ? data[0] % (size + 1) : 0;
    if (size - cut && write(sv[1], data + cut, size - cut) < 0) {}
    shutdown(sv[1], SHUT_WR);
    struct lm_ws *ws = lm_ws_new(&(struct lm_ws_config){.max_message = 4096, .ping_interval_s = -1,
                                                        .on_message = on_msg});
    if (ws) {
        lm_ws_run(ws, sv[0], (const char *)data, cut);
        lm_ws_free(ws);
    }
    close(sv[0]);
    close(sv[1]);
    return 0;
}
