/*
 * Socket holder for bench/live-scan: creates listening TCP sockets on loopback and keeps them open in a chosen
 * process shape until it receives SIGTERM/SIGINT or its stdin closes. Run it inside a private network namespace.
 *
 *   holder spread  NSOCK PERPROC IDLE   NSOCK sockets, PERPROC per process (1 = one process per socket)
 *   holder prefork NSOCK WORKERS IDLE   one parent opens NSOCK sockets, then forks WORKERS that inherit them
 *
 * IDLE extra processes hold no sockets. Prints "ready <pids>" once every socket is listening.
 * Children die with the parent (PR_SET_PDEATHSIG), so killing the holder's pid cleans up everything.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int ready_pipe[2];
static pid_t *kids;
static long nkids;

static void die(const char *what) { perror(what); exit(1); }
static void on_term(int sig);

/* Socket i goes to 127.0.0.(1 + i % 200), port 2000 + i / 200: spread over addresses, below the ephemeral range. */
static int open_listener(long i) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) die("socket");
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in sa = {0};
  sa.sin_family = AF_INET;
  sa.sin_port = htons((unsigned short)(2000 + i / 200));
  sa.sin_addr.s_addr = htonl(0x7f000001u + (unsigned)(i % 200));
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 1) < 0) {
    perror("bind/listen");
    char c = 'f'; /* tell the parent, which would otherwise wait for our readiness forever */
    if (write(ready_pipe[1], &c, 1) != 1) {}
    _exit(1);
  }
  return fd;
}

static void raise_nofile(long n) {
  struct rlimit rl = {(rlim_t)n, (rlim_t)n};
  if (setrlimit(RLIMIT_NOFILE, &rl) < 0) die("setrlimit");
}

/* In the child: die with the parent, optionally run body, report readiness, then sleep forever. */
static pid_t spawn(long first, long count) {
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid > 0) return pid;
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  signal(SIGTERM, SIG_DFL);
  signal(SIGINT, SIG_DFL);
  for (long i = first; i < first + count; i++) open_listener(i);
  char c = 'r';
  if (write(ready_pipe[1], &c, 1) != 1) _exit(1);
  close(ready_pipe[0]);
  close(ready_pipe[1]);
  for (;;) pause();
}

static void await_ready(long n) {
  char buf[4096];
  long got = 0;
  while (got < n) {
    ssize_t k = read(ready_pipe[0], buf, sizeof buf);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) die("ready pipe");
    if (memchr(buf, 'f', (size_t)k)) { fprintf(stderr, "holder: a child could not listen\n"); on_term(1); }
    got += k;
  }
}

/* Kill every child by pid and reap them all, so their ports are free when the holder's exit is seen. */
static void on_term(int sig) {
  (void)sig;
  for (long i = 0; i < nkids; i++) kill(kids[i], SIGKILL);
  while (wait(NULL) > 0 || errno == EINTR) {}
  _exit(sig == 0 ? 0 : 1);
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: holder spread|prefork NSOCK PERPROC|WORKERS IDLE\n");
    return 2;
  }
  long nsock = atol(argv[2]), per = atol(argv[3]), idle = atol(argv[4]);
  int prefork = strcmp(argv[1], "prefork") == 0;
  if (pipe(ready_pipe) < 0) die("pipe");
  signal(SIGTERM, on_term);
  signal(SIGINT, on_term);
  signal(SIGHUP, on_term);
  long procs = prefork ? per : (nsock + per - 1) / per;
  kids = calloc((size_t)(procs + idle), sizeof *kids);
  raise_nofile(prefork ? nsock + 64 : per + 64);
  /* Idle processes first: forked after the listeners they would inherit them all (prefork: 1000 × 10k more fds). */
  for (long i = 0; i < idle; i++) kids[nkids++] = spawn(0, 0);
  if (prefork) {
    for (long i = 0; i < nsock; i++) open_listener(i);
    for (long w = 0; w < per; w++) kids[nkids++] = spawn(0, 0);
  } else {
    for (long first = 0; first < nsock; first += per) {
      long count = nsock - first < per ? nsock - first : per;
      kids[nkids++] = spawn(first, count);
    }
  }
  await_ready(nkids);
  printf("ready %ld\n", nkids);
  fflush(stdout);
  /* Stay until told to stop; stdin closing (the bench died) also stops us. */
  char b;
  while (read(0, &b, 1) > 0) {}
  on_term(0);
  return 0;
}
