/* LD_PRELOAD shim for bench/idle-memory.mjs: glibc's own view of native memory, which process.memoryUsage() cannot
 * give. A thread polls for the file named by MALLOC_STATS_TRIGGER; when it appears it is removed and one line is
 * appended to MALLOC_STATS_FILE: bytes in use by malloc (uordblks + mmapped blocks), bytes free inside malloc's
 * arenas (fordblks), and when the trigger file says "trim", the same after malloc_trim(0) returned what it can.
 * Built at bench time: cc -shared -fPIC -O2 -o malloc-stats.so malloc-stats-shim.c -lpthread */
#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void *watch(void *arg) {
  const char *trigger = getenv("MALLOC_STATS_TRIGGER");
  const char *out = getenv("MALLOC_STATS_FILE");
  (void)arg;
  for (;;) {
    usleep(100000);
    FILE *t = fopen(trigger, "r");
    if (t == NULL) continue;
    int trim = fgetc(t) == 't';
    fclose(t);
    unlink(trigger);
    struct mallinfo2 a = mallinfo2();
    if (trim) malloc_trim(0);
    struct mallinfo2 b = mallinfo2();
    FILE *f = fopen(out, "a");
    if (f == NULL) continue;
    fprintf(f, "{\"inUse\":%zu,\"free\":%zu,\"arenas\":%zu,\"inUseAfterTrim\":%zu,\"freeAfterTrim\":%zu}\n",
            a.uordblks + a.hblkhd, a.fordblks, a.arena, b.uordblks + b.hblkhd, b.fordblks);
    fclose(f);
  }
  return NULL;
}

__attribute__((constructor)) static void start(void) {
  if (getenv("MALLOC_STATS_TRIGGER") == NULL || getenv("MALLOC_STATS_FILE") == NULL) return;
  pthread_t t;
  if (pthread_create(&t, NULL, watch, NULL) == 0) pthread_detach(t);
}
