/* json_prefix.c — does this text still begin a JSON object? (response_format json_object)
 *
 * A byte-at-a-time pushdown automaton over RFC 8259. The sampler uses it to reject tokens
 * that would make the output unparseable, and llmd_json_closing to finish the object when
 * the token budget runs out, so that the answer parses as JSON without a grammar engine.
 */
#include <string.h>

#include "server.h"

enum {
    J_START,        /* before the top-level object: whitespace or '{' */
    J_VALUE,        /* a value is expected */
    J_OBJ_FIRST,    /* after '{': whitespace, '"' or '}' */
    J_OBJ_KEY,      /* after ',' in an object: whitespace or '"' */
    J_COLON,        /* after a key */
    J_AFTER,        /* after a value: whitespace, ',' or the closing bracket */
    J_ARR_FIRST,    /* after '[': whitespace, ']' or a value */
    J_STR,          /* inside a string */
    J_STR_ESC,      /* after a backslash */
    J_STR_HEX,      /* inside \uXXXX */
    J_NUM_SIGN,     /* after '-' */
    J_NUM_ZERO,     /* after a leading 0 */
    J_NUM_INT,      /* in the integer digits */
    J_NUM_DOT,      /* after '.' */
    J_NUM_FRAC,     /* in the fraction digits */
    J_NUM_E,        /* after 'e' */
    J_NUM_ESIGN,    /* after 'e+' or 'e-' */
    J_NUM_EXP,      /* in the exponent digits */
    J_LIT,          /* inside true / false / null */
    J_DONE,         /* the object is complete: whitespace only */
    J_BAD,
};

static bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

void llmd_json_init(struct llmd_json *j)
{
    memset(j, 0, sizeof *j);
    j->state = J_START;
}

bool llmd_json_done(const struct llmd_json *j)
{
    return j->state == J_DONE;
}

/* A value ended: back to the enclosing container (or done at the top). */
static void value_end(struct llmd_json *j)
{
    j->state = j->depth == 0 ? J_DONE : J_AFTER;
}

static bool push(struct llmd_json *j, char open)
{
    if (j->depth >= LLMD_JSON_MAX_DEPTH) return false;
    j->stack[j->depth++] = open;
    j->state = open == '{' ? J_OBJ_FIRST : J_ARR_FIRST;
    return true;
}

/* Starts a value with c (state J_VALUE or J_ARR_FIRST). */
static bool value_start(struct llmd_json *j, char c)
{
    switch (c) {
    case '{': case '[': return push(j, c);
    case '"': j->state = J_STR; j->is_key = 0; return true;
    case '-': j->state = J_NUM_SIGN; return true;
    case '0': j->state = J_NUM_ZERO; return true;
    case 't': j->lit = "true"; break;
    case 'f': j->lit = "false"; break;
    case 'n': j->lit = "null"; break;
    default:
        if (c >= '1' && c <= '9') {
            j->state = J_NUM_INT;
            return true;
        }
        return false;
    }
    j->state = J_LIT;
    j->lit_i = 1;
    return true;
}

/* One byte. */
static bool feed1(struct llmd_json *j, char c)
{
    switch (j->state) {
    case J_START:
        if (is_ws(c)) return true;
        return c == '{' && push(j, '{');
    case J_DONE:
        return is_ws(c);
    case J_VALUE:
        if (is_ws(c)) return true;
        return value_start(j, c);
    case J_ARR_FIRST:
        if (is_ws(c)) return true;
        if (c == ']') {
            j->depth--;
            value_end(j);
            return true;
        }
        return value_start(j, c);
    case J_OBJ_FIRST:
    case J_OBJ_KEY:
        if (is_ws(c)) return true;
        if (c == '"') {
            j->state = J_STR;
            j->is_key = 1;
            return true;
        }
        if (c == '}' && j->state == J_OBJ_FIRST) {
            j->depth--;
            value_end(j);
            return true;
        }
        return false;
    case J_COLON:
        if (is_ws(c)) return true;
        if (c != ':') return false;
        j->state = J_VALUE;
        return true;
    case J_AFTER: {
        if (is_ws(c)) return true;
        char top = j->stack[j->depth - 1];
        if (c == ',') {
            j->state = top == '{' ? J_OBJ_KEY : J_VALUE;
            return true;
        }
        if ((c == '}' && top == '{') || (c == ']' && top == '[')) {
            j->depth--;
            value_end(j);
            return true;
        }
        return false;
    }
    case J_STR:
        if (c == '"') {
            if (j->is_key) j->state = J_COLON;
            else value_end(j);
            return true;
        }
        if (c == '\\') {
            j->state = J_STR_ESC;
            return true;
        }
        return (unsigned char)c >= 0x20;
    case J_STR_ESC:
        if (c == 'u') {
            j->state = J_STR_HEX;
            j->hex_left = 4;
            return true;
        }
        if (!strchr("\"\\/bfnrt", c) || !c) return false;
        j->state = J_STR;
        return true;
    case J_STR_HEX:
        if (!is_hex(c)) return false;
        if (--j->hex_left == 0) j->state = J_STR;
        return true;
    case J_LIT:
        if (c != j->lit[j->lit_i]) return false;
        if (!j->lit[++j->lit_i]) value_end(j);
        return true;
    case J_NUM_SIGN:
        if (c == '0') j->state = J_NUM_ZERO;
        else if (c >= '1' && c <= '9') j->state = J_NUM_INT;
        else return false;
        return true;
    case J_NUM_ZERO:
    case J_NUM_INT:
        if (j->state == J_NUM_INT && is_digit(c)) return true;
        if (c == '.') { j->state = J_NUM_DOT; return true; }
        if (c == 'e' || c == 'E') { j->state = J_NUM_E; return true; }
        value_end(j);
        return feed1(j, c);   /* the number ended; c belongs to what follows */
    case J_NUM_DOT:
        if (!is_digit(c)) return false;
        j->state = J_NUM_FRAC;
        return true;
    case J_NUM_FRAC:
        if (is_digit(c)) return true;
        if (c == 'e' || c == 'E') { j->state = J_NUM_E; return true; }
        value_end(j);
        return feed1(j, c);
    case J_NUM_E:
        if (c == '+' || c == '-') { j->state = J_NUM_ESIGN; return true; }
        if (!is_digit(c)) return false;
        j->state = J_NUM_EXP;
        return true;
    case J_NUM_ESIGN:
        if (!is_digit(c)) return false;
        j->state = J_NUM_EXP;
        return true;
    case J_NUM_EXP:
        if (is_digit(c)) return true;
        value_end(j);
        return feed1(j, c);
    default:
        return false;
    }
}

bool llmd_json_feed(struct llmd_json *j, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!feed1(j, s[i])) {
            j->state = J_BAD;
            return false;
        }
    }
    return true;
}

/* The next byte of the shortest completion from state j. */
static char closing_char(const struct llmd_json *j)
{
    switch (j->state) {
    case J_START: return '{';
    case J_VALUE: return '0';
    case J_ARR_FIRST: return ']';
    case J_OBJ_FIRST: return '}';
    case J_OBJ_KEY: return '"';
    case J_COLON: return ':';
    case J_AFTER: return j->stack[j->depth - 1] == '{' ? '}' : ']';
    case J_STR: return '"';
    case J_STR_ESC: return 'n';
    case J_STR_HEX: return '0';
    case J_LIT: return j->lit[j->lit_i];
    case J_NUM_SIGN: case J_NUM_DOT: case J_NUM_E: case J_NUM_ESIGN: return '0';
    case J_NUM_ZERO: case J_NUM_INT: case J_NUM_FRAC: case J_NUM_EXP:
        return j->depth ? (j->stack[j->depth - 1] == '{' ? '}' : ']') : 0;
    default: return 0;
    }
}

size_t llmd_json_closing(const struct llmd_json *j, char *out, size_t cap)
{
    struct llmd_json w = *j;
    size_t n = 0;
    while (w.state != J_DONE && w.state != J_BAD && n + 1 < cap) {
        char c = closing_char(&w);
        if (!c || !feed1(&w, c)) break;
        out[n++] = c;
    }
    if (cap) out[n] = 0;
    return n;
}
