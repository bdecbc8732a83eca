/* ragd — RAG backend entry point (not built yet). */
#include <stdio.h>

int main(void)
{
    fprintf(stderr, "ragd: not implemented yet\n");
    return 2;
}
