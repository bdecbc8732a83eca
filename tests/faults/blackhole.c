/* blackhole.c — a TCP port that never completes a connection (the LLM fault test builds and runs
 * it): it listens on 127.0.0.1:PORT with the smallest backlog and fills that backlog itself, so the
 * kernel drops every further SYN and a client's connect() hangs until its own timeout. Prints
 * "ready" when the port is black; exits when stdin closes. Not a test program (no test_ prefix). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: blackhole PORT\n");
        return 2;
    }
    int one = 1;
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[1]))};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 0) < 0) {
        perror("blackhole: listen");
        return 1;
    }
    /* fill the accept queue (never accepted); the ones beyond it stay half-open */
    for (int i = 0; i < 4; i++) {
        int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (c >= 0) (void)connect(c, (struct sockaddr *)&a, sizeof a);
    }
    usleep(200 * 1000);
    printf("ready\n");
    fflush(stdout);
    char buf[64];
    while (read(0, buf, sizeof buf) > 0) {
    }
    return 0;
}
