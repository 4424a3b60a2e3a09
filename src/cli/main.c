/* main.c -- TEMPORARY: replaced by the real CLI. */
#include <stdio.h>
#include "parapet.h"
int main(void) { printf("parapet %s\n", parapet_version()); return 0; }
