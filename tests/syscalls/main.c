/* The harness's main(): every other *.c here only registers cases. */
#define HARNESS_MAIN
#include "harness.h"
