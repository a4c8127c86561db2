/*
 * bindcheck's optional native /proc fd scanner (Node-API, C, no dependencies).
 *
 * The socket-owner walk reads every /proc/PID/fd/N link on the host. The kernel's work per link is small
 * (proc_fd_link + a dynamic d_name for sockets), but through Node's fs every call also pays a path string
 * conversion, an options object and an exception on failure: on 10k processes that user-space overhead
 * exceeded the kernel's. Here the same walk runs in C: one openat(O_DIRECTORY) per fd directory relative to
 * /proc, getdents64, readlinkat() relative to the directory fd, on several threads that take
 * pids from an atomic cursor. The result is the same as src/live/fd-scan.ts (test/live/native-scan.test.ts
 * compares both on captured /proc trees and on the live host); src/live/native-scan.ts loads this file and
 * falls back to the JavaScript scan when it is absent.
 *
 * scan(procDir, pids: Int32Array, wanted: Float64Array (sorted ascending), flags, threads) → {
 *   pairs: Float64Array   pid, inode, pid, inode, … grouped by pid
 *   denied: Int32Array    pids whose fd directory gave EACCES/EPERM
 *   vanished, fds         counts, as ScanOut
 *   info: Float64Array    per owner pid (flag INFO): pid, euid or -1, then comm, netns and cgroup as start, end
 *                         (-1: not read) offsets into text; a pid that holds a wanted socket appears once
 *   text: Buffer          the owners' comm (raw bytes), ns/net link targets and /proc/PID/cgroup (flag UNIT)
 * }
 * flags: 1 STRICT (refuse a pid's fd directory that is not a real directory: a captured root), 2 INFO (read
 * every owner's comm, /proc/PID's owner (the euid) and ns/net: see owner_info), 4 TWINS (see try_twin), 8 UNIT
 * (INFO also reads /proc/PID/cgroup, the text span after the netns one), 16 LIST (scan the numeric directories of
 * procDir instead of `pids`). The result also has `processes`, the number of pids scanned.
 *
 * scanStart(same arguments) → handle, scanJoin(handle) → scan()'s result: the scan's threads but one start at
 * once and the calling thread takes its share at the join, so JavaScript can build its rows in between.
 *
 * diag(family: 4 | 6, protocol: 6 (TCP) | 17 (UDP), states: bit mask of TCP states) → {
 *   rows: Float64Array    state, uid, inode, local port, remote port per socket
 *   addrs: Buffer         32 bytes per socket: local then remote address, network order (IPv4 in the first 4)
 * }
 * The kernel's socket table of the caller's network namespace over NETLINK_SOCK_DIAG, as `ss` reads it: the
 * rows /proc/net/{tcp,tcp6,udp,udp6} print, without the kernel formatting text and without walking the
 * established hash when only listening sockets are asked for. Throws an Error whose code is the errno name
 * (ENOENT: no diag module for the protocol) so the caller can read the /proc file instead.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define FLAG_STRICT 1
#define FLAG_INFO 2
#define FLAG_UNIT 8
#define FLAG_LIST 16
#define INFO_FIELDS 8
#define FLAG_TWINS 4
#define MAX_THREADS 16
/* Fewest open fds for which a process is compared with a twin (see try_twin) instead of walked. */
#define TWIN_MIN_FDS 32
#ifndef KCMP_FILE
#define KCMP_FILE 0
#endif

/* What getdents64(2) returns (the kernel's struct linux_dirent64; glibc declares no such type). */
struct dirent64_raw {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

typedef struct {
  double *v;
  size_t n, cap;
} dvec;

typedef struct {
  int32_t *v;
  size_t n, cap;
} ivec;

typedef struct {
  char *v;
  size_t n, cap;
} cvec;

static int dpush(dvec *a, double x) {
  if (a->n == a->cap) {
    size_t cap = a->cap ? a->cap * 2 : 256;
    double *p = realloc(a->v, cap * sizeof *p);
    if (!p) return -1;
    a->v = p;
    a->cap = cap;
  }
  a->v[a->n++] = x;
  return 0;
}

static int ipush(ivec *a, int32_t x) {
  if (a->n == a->cap) {
    size_t cap = a->cap ? a->cap * 2 : 64;
    int32_t *p = realloc(a->v, cap * sizeof *p);
    if (!p) return -1;
    a->v = p;
    a->cap = cap;
  }
  a->v[a->n++] = x;
  return 0;
}

static int cappend(cvec *a, const char *s, size_t len) {
  if (a->n + len > a->cap) {
    size_t cap = a->cap ? a->cap : 1024;
    while (cap < a->n + len) cap *= 2;
    char *p = realloc(a->v, cap);
    if (!p) return -1;
    a->v = p;
    a->cap = cap;
  }
  memcpy(a->v + a->n, s, len);
  a->n += len;
  return 0;
}

/* A process walked in full, kept as the reference for others with the same number of open fds. */
typedef struct twin_ref {
  int32_t pid;
  size_t count;
  int *fds;
  double *inodes; /* wanted inode at fds[i], or -1 */
  struct twin_ref *next;
} twin_ref_t;

typedef struct {
  int procfd;
  const int32_t *pids;
  size_t npids;
  const double *wanted;
  size_t nwanted;
  int flags;
  size_t cursor; /* atomic */
  pthread_mutex_t lock;
  twin_ref_t *refs; /* under lock; an entry never changes once linked */
  int twins_off;    /* atomic: kcmp unavailable (ENOSYS) or not allowed (EPERM) here */
} job_t;

typedef struct {
  job_t *job;
  dvec pairs;
  ivec denied;
  double vanished;
  double fds;
  dvec info;
  cvec text;
  double twins; /* processes resolved by try_twin */
  ivec walk_fds;   /* the fds and inodes of the walk in progress, for a new twin reference */
  dvec walk_inodes;
  int failed; /* out of memory */
} out_t;

static int wanted_has(const job_t *job, double inode) {
  size_t lo = 0, hi = job->nwanted;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    double m = job->wanted[mid];
    if (m == inode) return 1;
    if (m < inode) lo = mid + 1;
    else hi = mid;
  }
  return 0;
}

/* `socket:[12345]` → 12345, or -1: the same arithmetic (IEEE doubles) as parseInodeBytes in fd-scan.ts. */
static double parse_socket_inode(const char *t, ssize_t len) {
  if (len < 8 || memcmp(t, "socket:[", 8) != 0) return -1;
  ssize_t end = len - 1;
  if (t[end] != ']') return -1;
  double v = 0;
  for (ssize_t j = 8; j < end; j++) {
    int d = (unsigned char)t[j] - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return end > 8 ? v : -1;
}

/* Read a small /proc file relative to procfd into buf (at most cap bytes); -1 on failure. */
/* `once`: a single read() (a seq_file with one record, like /proc/PID/status, returns all of it at once). */
static ssize_t read_small(int procfd, const char *rel, char *buf, size_t cap, int once) {
  int fd = openat(procfd, rel, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return -1;
  size_t n = 0;
  while (n < cap) {
    ssize_t k = read(fd, buf + n, cap - n);
    if (k < 0) {
      if (errno == EINTR) continue;
      close(fd);
      return -1;
    }
    if (k == 0) break;
    n += (size_t)k;
    if (once) break;
  }
  close(fd);
  return (ssize_t)n;
}

/*
 * An owner's comm, effective uid and network namespace. /proc/PID/status has the first two, but the kernel builds
 * all of its ~1.5 kB (memory counters, signal masks, capabilities, cpu lists) for every read; /proc/PID/comm is
 * comm and a newline, unescaped, and /proc/PID itself is owned by the task's effective uid — always, non-dumpable
 * tasks included (fs/proc/base.c task_dump_owner applies the dumpable rule to every entry but the 0555
 * directories; "procps kept stating /proc/pid" because status was slow). Same answers, a fraction of the work.
 */
static void owner_info(out_t *o, int32_t pid, char *buf, size_t cap) {
  char rel[64];
  double meta[INFO_FIELDS] = {pid, -1, 0, -1, 0, -1, 0, -1};
  struct stat st;
  snprintf(rel, sizeof rel, "%d", pid);
  if (fstatat(o->job->procfd, rel, &st, 0) == 0 && S_ISDIR(st.st_mode)) meta[1] = (double)st.st_uid;
  snprintf(rel, sizeof rel, "%d/comm", pid);
  ssize_t n = read_small(o->job->procfd, rel, buf, cap, 1);
  if (n > 0) {
    size_t len = (size_t)n;
    if (buf[len - 1] == '\n') len--;
    meta[2] = (double)o->text.n;
    if (cappend(&o->text, buf, len) < 0) o->failed = 1;
    meta[3] = (double)o->text.n;
  }
  snprintf(rel, sizeof rel, "%d/ns/net", pid);
  char link[256];
  ssize_t k = readlinkat(o->job->procfd, rel, link, sizeof link);
  if (k > 0 && (size_t)k < sizeof link) {
    meta[4] = (double)o->text.n;
    if (cappend(&o->text, link, (size_t)k) < 0) o->failed = 1;
    meta[5] = (double)o->text.n;
  }
  if (o->job->flags & FLAG_UNIT) {
    snprintf(rel, sizeof rel, "%d/cgroup", pid);
    n = read_small(o->job->procfd, rel, buf, cap, 0);
    if (n > 0) {
      meta[6] = (double)o->text.n;
      if (cappend(&o->text, buf, (size_t)n) < 0) o->failed = 1;
      meta[7] = (double)o->text.n;
    }
  }
  for (int i = 0; i < INFO_FIELDS; i++)
    if (dpush(&o->info, meta[i]) < 0) o->failed = 1;
}

static twin_ref_t *find_ref(job_t *job, size_t count) {
  pthread_mutex_lock(&job->lock);
  twin_ref_t *r = job->refs;
  while (r && r->count != count) r = r->next;
  pthread_mutex_unlock(&job->lock);
  return r;
}

static void add_ref(job_t *job, int32_t pid, const ivec *fds, const dvec *inodes) {
  twin_ref_t *r = calloc(1, sizeof *r);
  if (!r) return;
  r->pid = pid;
  r->count = fds->n;
  r->fds = malloc(fds->n * sizeof(int));
  r->inodes = malloc(fds->n * sizeof(double));
  if (!r->fds || !r->inodes) {
    free(r->fds);
    free(r->inodes);
    free(r);
    return;
  }
  for (size_t i = 0; i < fds->n; i++) r->fds[i] = fds->v[i];
  memcpy(r->inodes, inodes->v, fds->n * sizeof(double));
  pthread_mutex_lock(&job->lock);
  twin_ref_t *q = job->refs;
  while (q && q->count != r->count) q = q->next;
  if (q) {
    free(r->fds);
    free(r->inodes);
    free(r);
  } else {
    r->next = job->refs;
    job->refs = r;
  }
  pthread_mutex_unlock(&job->lock);
}

/*
 * A prefork server's workers inherit the parent's descriptors: each holds the very same open files at the same fd
 * numbers. Reading every worker's links costs a /proc lookup, a permission check and a d_path per fd; kcmp(2)
 * KCMP_FILE asks the kernel whether fd N of two processes is one struct file, which is several times cheaper.
 * When `pid` has exactly as many open fds as a reference process walked in full (the fd directory's st_size is
 * that count, Linux 6.2+) and every one of the reference's fds is the same file in `pid`, the two fd sets are
 * equal and `pid` holds what the reference held. Any difference (or kcmp refused) and `pid` is walked as usual.
 */
static int try_twin(out_t *o, int32_t pid, twin_ref_t *ref) {
  job_t *job = o->job;
  size_t before = o->pairs.n;
  for (size_t i = 0; i < ref->count; i++) {
    long r = syscall(SYS_kcmp, (pid_t)ref->pid, (pid_t)pid, KCMP_FILE, (unsigned long)ref->fds[i], (unsigned long)ref->fds[i]);
    if (r != 0) {
      if (r < 0 && (errno == ENOSYS || errno == EPERM || errno == EACCES)) __atomic_store_n(&job->twins_off, 1, __ATOMIC_RELAXED);
      o->pairs.n = before;
      return 0;
    }
    if (ref->inodes[i] >= 0 && (dpush(&o->pairs, pid) < 0 || dpush(&o->pairs, ref->inodes[i]) < 0)) o->failed = 1;
  }
  return 1;
}

static void scan_pid(out_t *o, int32_t pid, char *status_buf, size_t status_cap) {
  job_t *job = o->job;
  char rel[64];
  snprintf(rel, sizeof rel, "%d/fd", pid);
  if (job->flags & FLAG_STRICT) {
    struct stat st;
    if (fstatat(job->procfd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0) {
      if (errno == EACCES || errno == EPERM) {
        if (ipush(&o->denied, pid) < 0) o->failed = 1;
      } else o->vanished++;
      return;
    }
    if (!S_ISDIR(st.st_mode)) return;
  }
  int dfd = openat(job->procfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC | ((job->flags & FLAG_STRICT) ? O_NOFOLLOW : 0));
  if (dfd < 0) {
    if (errno == EACCES || errno == EPERM) {
      if (ipush(&o->denied, pid) < 0) o->failed = 1;
    } else o->vanished++;
    return;
  }
  /* The fd directory's size is its number of open fds (Linux 6.2+; 0 before, and then no twin is tried). */
  size_t count = 0, expect = 0;
  struct stat dst;
  if ((job->flags & FLAG_TWINS) && fstat(dfd, &dst) == 0 && dst.st_size > 0) {
    expect = (size_t)dst.st_size;
    if (expect >= TWIN_MIN_FDS && !__atomic_load_n(&job->twins_off, __ATOMIC_RELAXED)) count = expect;
  }
  if (count) {
    twin_ref_t *ref = find_ref(job, count);
    size_t b0 = o->pairs.n;
    if (ref && ref->pid != pid && try_twin(o, pid, ref)) {
      close(dfd);
      o->fds += (double)count;
      o->twins++;
      if (o->pairs.n > b0 && (job->flags & FLAG_INFO)) owner_info(o, pid, status_buf, status_cap);
      return;
    }
  }
  o->walk_fds.n = 0;
  o->walk_inodes.n = 0;
  size_t before = o->pairs.n;
  char target[4096];
  char dbuf[16384];
  /* Node's readdirSync fails as a whole on a read error after the first batch; a process that exits mid-listing
     gives ENOENT here and in Node alike, and both then count it as vanished with no pairs. */
  size_t names = 0;
  int err = 0;
  for (;;) {
    long nread = syscall(SYS_getdents64, dfd, dbuf, sizeof dbuf);
    if (nread < 0) {
      err = errno;
      break;
    }
    if (nread == 0) break;
    for (long bpos = 0; bpos < nread;) {
      struct dirent64_raw *e = (struct dirent64_raw *)(dbuf + bpos);
      bpos += e->d_reclen;
      if (e->d_name[0] == '.' && (e->d_name[1] == 0 || (e->d_name[1] == '.' && e->d_name[2] == 0))) continue;
      names++;
      ssize_t len = readlinkat(dfd, e->d_name, target, sizeof target);
      double got = -1;
      if (len > 0 && (size_t)len < sizeof target && target[0] == 's') {
        double inode = parse_socket_inode(target, len);
        if (inode >= 0 && wanted_has(job, inode)) {
          got = inode;
          if (dpush(&o->pairs, pid) < 0 || dpush(&o->pairs, inode) < 0) o->failed = 1;
        }
      }
      if (count) {
        /* Kept for a twin reference: an fd that vanished mid-walk (len < 0) is kept too; kcmp then finds no
           such fd in a twin, and that twin is walked. */
        char *endp;
        long fdno = strtol(e->d_name, &endp, 10);
        if (*endp != 0 || fdno < 0 || fdno > 0x7fffffff) count = 0;
        else if (ipush(&o->walk_fds, (int32_t)fdno) < 0 || dpush(&o->walk_inodes, got) < 0) o->failed = 1;
      }
    }
    /* All the fds the directory's size announced are listed: skip the getdents64 that would only say "end". An fd
       opened since is as if opened just after the listing. */
    if (expect && names >= expect) break;
  }
  close(dfd);
  if (err != 0) {
    o->pairs.n = before;
    if (err == EACCES || err == EPERM) {
      if (ipush(&o->denied, pid) < 0) o->failed = 1;
    } else o->vanished++;
    return;
  }
  o->fds += (double)names;
  if (count && names == count && names == o->walk_fds.n) add_ref(job, pid, &o->walk_fds, &o->walk_inodes);
  if (o->pairs.n > before && (job->flags & FLAG_INFO)) owner_info(o, pid, status_buf, status_cap);
}

static void *worker(void *arg) {
  out_t *o = arg;
  job_t *job = o->job;
  size_t cap = 64 * 1024;
  char *buf = (job->flags & FLAG_INFO) ? malloc(cap) : NULL;
  if ((job->flags & FLAG_INFO) && !buf) {
    o->failed = 1;
    return NULL;
  }
  for (;;) {
    size_t k = __atomic_fetch_add(&job->cursor, 1, __ATOMIC_RELAXED);
    if (k >= job->npids) break;
    scan_pid(o, job->pids[k], buf, cap);
    if (o->failed) break;
  }
  free(buf);
  return NULL;
}

static napi_value make_f64(napi_env env, const double *src, size_t n) {
  napi_value ab, arr;
  void *data;
  if (napi_create_arraybuffer(env, n * sizeof(double), &data, &ab) != napi_ok) return NULL;
  if (n) memcpy(data, src, n * sizeof(double));
  if (napi_create_typedarray(env, napi_float64_array, n, ab, 0, &arr) != napi_ok) return NULL;
  return arr;
}

/* /proc's numeric directories, as src/live/read-live-sockets.ts listPids reads them. 0, or -1 out of memory. */
static int list_pids(int procfd, ivec *out) {
  int dfd = openat(procfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return 0;
  char dbuf[32768];
  for (;;) {
    long nread = syscall(SYS_getdents64, dfd, dbuf, sizeof dbuf);
    if (nread <= 0) break;
    for (long off = 0; off < nread;) {
      struct dirent64_raw *e = (struct dirent64_raw *)(dbuf + off);
      off += e->d_reclen;
      const char *p = e->d_name;
      if (*p < '1' || *p > '9') continue;
      if (e->d_type == DT_UNKNOWN) {
        /* A file system that does not fill d_type (a capture on one): ask, as readdir(withFileTypes) does. */
        struct stat st;
        if (fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode)) continue;
      } else if (e->d_type != DT_DIR) continue;
      long long v = 0;
      while (*p >= '0' && *p <= '9' && v < (1LL << 31)) v = v * 10 + (*p++ - '0');
      if (*p || v <= 0 || v >= (1LL << 31)) continue;
      if (ipush(out, (int32_t)v) < 0) {
        close(dfd);
        return -1;
      }
    }
  }
  close(dfd);
  return 0;
}

/* One owner scan: its arguments (copied, so background threads never read JavaScript memory), threads and outputs. */
typedef struct {
  job_t job;
  out_t outs[MAX_THREADS];
  pthread_t tids[MAX_THREADS];
  int started[MAX_THREADS];
  int nthreads;
  int procfd;
  int32_t *pids;
  double *wanted;
  int joined; /* every started thread has been joined */
  int done;   /* the result was handed over (or the run failed): outputs freed */
} run_t;

static void run_release(run_t *r) {
  while (r->job.refs) {
    twin_ref_t *t = r->job.refs;
    r->job.refs = t->next;
    free(t->fds);
    free(t->inodes);
    free(t);
  }
  for (int i = 0; i < MAX_THREADS; i++) {
    out_t *o = &r->outs[i];
    free(o->walk_fds.v);
    free(o->walk_inodes.v);
    free(o->pairs.v);
    free(o->denied.v);
    free(o->info.v);
    free(o->text.v);
    memset(o, 0, sizeof *o);
  }
  if (r->procfd >= 0) close(r->procfd);
  r->procfd = -1;
  free(r->pids);
  free(r->wanted);
  r->pids = NULL;
  r->wanted = NULL;
  r->done = 1;
}

static void run_join(run_t *r) {
  if (r->joined) return;
  for (int i = 0; i < r->nthreads; i++)
    if (r->started[i]) pthread_join(r->tids[i], NULL);
  r->joined = 1;
}

static void run_free(run_t *r) {
  run_join(r);
  if (!r->done) run_release(r);
  pthread_mutex_destroy(&r->job.lock);
  free(r);
}

/* Arguments (procDir, pids, wanted, flags, threads) into a run, /proc listed if asked; NULL after throwing. */
static run_t *run_create(napi_env env, napi_callback_info cb) {
  size_t argc = 5;
  napi_value argv[5];
  if (napi_get_cb_info(env, cb, &argc, argv, NULL, NULL) != napi_ok || argc < 5) {
    napi_throw_type_error(env, NULL, "scan(procDir, pids, wanted, flags, threads)");
    return NULL;
  }
  char procdir[4096];
  size_t plen;
  if (napi_get_value_string_utf8(env, argv[0], procdir, sizeof procdir, &plen) != napi_ok) {
    napi_throw_type_error(env, NULL, "procDir must be a string");
    return NULL;
  }
  if (plen >= sizeof procdir - 1) {
    napi_throw_range_error(env, NULL, "procDir too long");
    return NULL;
  }
  napi_typedarray_type t1, t2;
  size_t npids, nwanted;
  void *pids, *wanted;
  int32_t flags, threads;
  if (napi_get_typedarray_info(env, argv[1], &t1, &npids, &pids, NULL, NULL) != napi_ok || napi_get_typedarray_info(env, argv[2], &t2, &nwanted, &wanted, NULL, NULL) != napi_ok ||
      t1 != napi_int32_array || t2 != napi_float64_array) {
    napi_throw_type_error(env, NULL, "pids must be an Int32Array and wanted a Float64Array");
    return NULL;
  }
  if (napi_get_value_int32(env, argv[3], &flags) != napi_ok || napi_get_value_int32(env, argv[4], &threads) != napi_ok) {
    napi_throw_type_error(env, NULL, "flags and threads must be numbers");
    return NULL;
  }
  if (threads < 1) threads = 1;
  if (threads > MAX_THREADS) threads = MAX_THREADS;
  run_t *r = calloc(1, sizeof *r);
  if (!r) goto oom;
  pthread_mutex_init(&r->job.lock, NULL);
  r->procfd = open(procdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  r->wanted = malloc((nwanted ? nwanted : 1) * sizeof(double));
  if (!r->wanted) goto oom_free;
  if (nwanted) memcpy(r->wanted, wanted, nwanted * sizeof(double));
  if ((flags & FLAG_LIST) && r->procfd >= 0) {
    /* The pids are /proc's numeric directories (d_type says directory: a symlink in a capture is not one). */
    ivec listed = {0};
    if (list_pids(r->procfd, &listed) < 0) {
      free(listed.v);
      goto oom_free;
    }
    r->pids = listed.v;
    npids = listed.n;
  } else {
    r->pids = malloc((npids ? npids : 1) * sizeof(int32_t));
    if (!r->pids) goto oom_free;
    if (npids) memcpy(r->pids, pids, npids * sizeof(int32_t));
  }
  r->job.procfd = r->procfd;
  r->job.pids = r->pids;
  r->job.npids = npids;
  r->job.wanted = r->wanted;
  r->job.nwanted = nwanted;
  r->job.flags = flags;
  /* Threads are started only when there is work enough to share. */
  r->nthreads = npids < 64 ? 1 : threads;
  for (int i = 0; i < MAX_THREADS; i++) r->outs[i].job = &r->job;
  return r;
oom_free:
  run_free(r);
oom:
  napi_throw_error(env, "ENOMEM", "native scan: out of memory");
  return NULL;
}

/* Start the run's threads but the first: outs[0] is the caller's, run by run_work_here (at once, or at the join). */
static void run_launch(run_t *r) {
  if (r->procfd < 0) {
    /* No /proc to open: every pid counts as vanished, as the JavaScript scan would find no fd directory. */
    r->nthreads = 1;
    r->outs[0].vanished = (double)r->job.npids;
    return;
  }
  for (int i = 1; i < r->nthreads; i++) r->started[i] = pthread_create(&r->tids[i], NULL, worker, &r->outs[i]) == 0;
}

/* The caller's share: pids from the same cursor until none is left (all of them if no thread could start). */
static void run_work_here(run_t *r) {
  if (r->procfd >= 0) worker(&r->outs[0]);
}

/* The joined run's result object; the run's outputs are released. NULL after throwing. */
static napi_value run_result(napi_env env, run_t *r) {
  napi_value result = NULL;
  int failed = 0;
  for (int i = 0; i < r->nthreads; i++) failed |= r->outs[i].failed;
  if (failed) {
    run_release(r);
    napi_throw_error(env, "ENOMEM", "native scan: out of memory");
    return NULL;
  }
  /* Concatenate the threads' outputs in thread order: each keeps one pid's pairs together. */
  dvec pairs = {0}, info = {0};
  cvec text = {0};
  ivec denied = {0};
  double vanished = 0, fds = 0, twins = 0;
  for (int i = 0; i < r->nthreads; i++) {
    out_t *o = &r->outs[i];
    size_t base = text.n;
    for (size_t k = 0; k < o->pairs.n; k++) dpush(&pairs, o->pairs.v[k]);
    for (size_t k = 0; k < o->denied.n; k++) ipush(&denied, o->denied.v[k]);
    for (size_t k = 0; k < o->info.n; k += INFO_FIELDS) {
      dpush(&info, o->info.v[k]);
      dpush(&info, o->info.v[k + 1]);
      /* Text spans: start, end or -1 (not read), each start moved by what earlier threads' text takes. */
      for (int f = 2; f < INFO_FIELDS; f += 2) {
        dpush(&info, o->info.v[k + f] + (double)base);
        dpush(&info, o->info.v[k + f + 1] < 0 ? -1 : o->info.v[k + f + 1] + (double)base);
      }
    }
    if (o->text.n) cappend(&text, o->text.v, o->text.n);
    vanished += o->vanished;
    fds += o->fds;
    twins += o->twins;
  }
  double processes = (double)r->job.npids;
  run_release(r);
  napi_value obj, v;
  napi_status st = napi_create_object(env, &obj);
  if (st == napi_ok && (v = make_f64(env, pairs.v, pairs.n))) st = napi_set_named_property(env, obj, "pairs", v);
  else st = napi_generic_failure;
  if (st == napi_ok && (v = make_f64(env, info.v, info.n))) st = napi_set_named_property(env, obj, "info", v);
  else st = napi_generic_failure;
  if (st == napi_ok) {
    napi_value ab;
    void *data;
    st = napi_create_arraybuffer(env, denied.n * sizeof(int32_t), &data, &ab);
    if (st == napi_ok && denied.n) memcpy(data, denied.v, denied.n * sizeof(int32_t));
    if (st == napi_ok) st = napi_create_typedarray(env, napi_int32_array, denied.n, ab, 0, &v);
    if (st == napi_ok) st = napi_set_named_property(env, obj, "denied", v);
  }
  if (st == napi_ok) {
    void *data;
    st = napi_create_buffer_copy(env, text.n, text.n ? text.v : "", &data, &v);
    if (st == napi_ok) st = napi_set_named_property(env, obj, "text", v);
  }
  if (st == napi_ok) st = napi_create_double(env, vanished, &v);
  if (st == napi_ok) st = napi_set_named_property(env, obj, "vanished", v);
  if (st == napi_ok) st = napi_create_double(env, fds, &v);
  if (st == napi_ok) st = napi_set_named_property(env, obj, "fds", v);
  if (st == napi_ok) st = napi_create_double(env, processes, &v);
  if (st == napi_ok) st = napi_set_named_property(env, obj, "processes", v);
  if (st == napi_ok) st = napi_create_double(env, twins, &v);
  if (st == napi_ok) st = napi_set_named_property(env, obj, "twins", v);
  free(pairs.v);
  free(info.v);
  free(text.v);
  free(denied.v);
  if (st == napi_ok) result = obj;
  else napi_throw_error(env, NULL, "native scan: could not build the result");
  return result;
}

/* scan(procDir, pids, wanted, flags, threads): the whole scan, this thread taking part. */
static napi_value scan(napi_env env, napi_callback_info cb) {
  run_t *r = run_create(env, cb);
  if (!r) return NULL;
  run_launch(r);
  run_work_here(r);
  run_join(r);
  napi_value result = run_result(env, r);
  run_free(r);
  return result;
}

static void run_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  run_free(data);
}

/*
 * scanStart(same arguments) → handle: all threads but one start scanning while JavaScript goes on (the caller
 * builds its socket rows meanwhile); scanJoin(handle) takes the last thread's share on the calling thread, waits
 * for the others and returns scan()'s result. A handle never joined is joined and freed when it is collected.
 */
static napi_value scan_start(napi_env env, napi_callback_info cb) {
  run_t *r = run_create(env, cb);
  if (!r) return NULL;
  run_launch(r);
  napi_value handle;
  if (napi_create_external(env, r, run_finalize, NULL, &handle) != napi_ok) {
    run_free(r);
    napi_throw_error(env, NULL, "native scan: could not make a handle");
    return NULL;
  }
  return handle;
}

static napi_value scan_join(napi_env env, napi_callback_info cb) {
  size_t argc = 1;
  napi_value argv[1];
  void *data = NULL;
  napi_valuetype type;
  if (napi_get_cb_info(env, cb, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || napi_typeof(env, argv[0], &type) != napi_ok || type != napi_external ||
      napi_get_value_external(env, argv[0], &data) != napi_ok || !data) {
    napi_throw_type_error(env, NULL, "scanJoin(handle from scanStart)");
    return NULL;
  }
  run_t *r = data;
  if (r->done) {
    napi_throw_error(env, NULL, "native scan: this scan was joined already");
    return NULL;
  }
  run_work_here(r);
  run_join(r);
  return run_result(env, r);
}

static const char *errno_code(int e) {
  switch (e) {
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case ENOMEM: return "ENOMEM";
    case EINVAL: return "EINVAL";
    case EINTR: return "EINTR";
    default: return "EIO";
  }
}

static napi_value throw_errno(napi_env env, int e, const char *what) {
  char msg[160];
  snprintf(msg, sizeof msg, "sock_diag %s: %s", what, strerror(e));
  napi_throw_error(env, errno_code(e), msg);
  return NULL;
}

static napi_value diag(napi_env env, napi_callback_info cb) {
  size_t argc = 3;
  napi_value argv[3];
  int32_t fam, proto;
  uint32_t states;
  if (napi_get_cb_info(env, cb, &argc, argv, NULL, NULL) != napi_ok || argc < 3 || napi_get_value_int32(env, argv[0], &fam) != napi_ok ||
      napi_get_value_int32(env, argv[1], &proto) != napi_ok || napi_get_value_uint32(env, argv[2], &states) != napi_ok ||
      (fam != 4 && fam != 6) || (proto != IPPROTO_TCP && proto != IPPROTO_UDP)) {
    napi_throw_type_error(env, NULL, "diag(family 4|6, protocol 6|17, states)");
    return NULL;
  }
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (fd < 0) return throw_errno(env, errno, "socket");
  struct {
    struct nlmsghdr nlh;
    struct inet_diag_req_v2 r;
  } req;
  memset(&req, 0, sizeof req);
  req.nlh.nlmsg_len = sizeof req;
  req.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  req.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.nlh.nlmsg_seq = 1;
  req.r.sdiag_family = fam == 4 ? AF_INET : AF_INET6;
  req.r.sdiag_protocol = (uint8_t)proto;
  req.r.idiag_states = states;
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  if (sendto(fd, &req, sizeof req, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, e, "send");
  }
  dvec rows = {0};
  cvec addrs = {0};
  int err = 0, done = 0, oom = 0;
  size_t cap = 64 * 1024;
  char *buf = malloc(cap);
  if (!buf) oom = 1;
  while (!done && !err && !oom) {
    ssize_t n = recv(fd, buf, cap, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      break;
    }
    if (n == 0) break;
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type == NLMSG_DONE) {
        done = 1;
        break;
      }
      if (h->nlmsg_type == NLMSG_ERROR) {
        struct nlmsgerr *e = NLMSG_DATA(h);
        err = h->nlmsg_len >= NLMSG_LENGTH(sizeof *e) && e->error < 0 ? -e->error : EIO;
        break;
      }
      if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg))) continue;
      const struct inet_diag_msg *m = NLMSG_DATA(h);
      if (dpush(&rows, m->idiag_state) || dpush(&rows, m->idiag_uid) || dpush(&rows, m->idiag_inode) ||
          dpush(&rows, ntohs(m->id.idiag_sport)) || dpush(&rows, ntohs(m->id.idiag_dport)) ||
          cappend(&addrs, (const char *)m->id.idiag_src, 16) || cappend(&addrs, (const char *)m->id.idiag_dst, 16)) {
        oom = 1;
        break;
      }
    }
  }
  free(buf);
  close(fd);
  napi_value result = NULL;
  if (oom) napi_throw_error(env, "ENOMEM", "sock_diag: out of memory");
  else if (err) throw_errno(env, err, fam == 4 ? (proto == IPPROTO_TCP ? "tcp" : "udp") : (proto == IPPROTO_TCP ? "tcp6" : "udp6"));
  else {
    napi_value v, b;
    void *data;
    if (napi_create_object(env, &result) != napi_ok || !(v = make_f64(env, rows.v, rows.n)) || napi_set_named_property(env, result, "rows", v) != napi_ok ||
        napi_create_buffer_copy(env, addrs.n, addrs.n ? addrs.v : "", &data, &b) != napi_ok || napi_set_named_property(env, result, "addrs", b) != napi_ok) {
      result = NULL;
      napi_throw_error(env, NULL, "sock_diag: could not build the result");
    }
  }
  free(rows.v);
  free(addrs.v);
  return result;
}

/* ---- cgroupWalk: src/live/cgroup-units.ts walkCgroupTree in C ---- */

static int is_unit_name(const char *n) {
  size_t l = strlen(n);
  const char *suf[] = {".service", ".socket", ".scope"};
  for (int i = 0; i < 3; i++) {
    size_t k = strlen(suf[i]);
    if (l >= k && memcmp(n + l - k, suf[i], k) == 0) return 1;
  }
  return 0;
}

/* PID_MAX_LIMIT on 64-bit Linux (as PID_LIMIT in src/live/cgroup-units.ts). */
#define PID_LIMIT (4LL * 1024 * 1024)

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

typedef struct {
  char *path;
  int unit; /* index of the unit name in `names`, -1 for none */
} walk_item_t;

typedef struct {
  ivec pids, units;
  cvec names; /* unit names, each ended by NUL */
  ivec name_at; /* start of each name in `names` */
  unsigned char *seen; /* by pid, so the first cgroup listing a pid wins, as the Map in walkCgroupTree */
  size_t seen_cap;
} walk_out_t;

/* 0 ok, -1 a directory or cgroup.procs could not be read (the whole walk answers nothing then), -2 out of memory. */
static int walk_tree(const char *root, walk_out_t *w) {
  walk_item_t *stack = NULL;
  size_t n = 0, cap = 0;
  int rc = 0;
  char *buf = NULL;
  size_t bufcap = 1 << 16;
  buf = malloc(bufcap);
  stack = malloc(sizeof *stack * 16);
  if (!buf || !stack) { free(buf); free(stack); return -2; }
  cap = 16;
  stack[n].path = strdup(root);
  stack[n].unit = -1;
  if (!stack[n].path) { free(buf); free(stack); return -2; }
  n++;
  while (n > 0 && rc == 0) {
    walk_item_t it = stack[--n];
    int dfd = open(it.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) { rc = -1; free(it.path); break; }
    /* cgroup.procs, whole (it can be long: every pid of the cgroup). */
    int pfd = openat(dfd, "cgroup.procs", O_RDONLY | O_CLOEXEC);
    size_t len = 0;
    if (pfd < 0) rc = -1;
    while (rc == 0) {
      if (len == bufcap) {
        char *b = realloc(buf, bufcap * 2);
        if (!b) { rc = -2; break; }
        buf = b;
        bufcap *= 2;
      }
      ssize_t k = read(pfd, buf + len, bufcap - len);
      if (k < 0) { if (errno == EINTR) continue; rc = -1; break; }
      if (k == 0) break;
      len += (size_t)k;
    }
    if (pfd >= 0) close(pfd);
    long long v = -1;
    for (size_t i = 0; rc == 0 && i <= len; i++) {
      int c = i < len ? buf[i] - '0' : -1;
      if (c >= 0 && c <= 9) { v = (v < 0 ? 0 : v * 10) + c; if (v > PID_LIMIT) v = PID_LIMIT; continue; }
      /* pid 0: a process outside this reader's pid namespace; it has no pid here to look up. Every pid is below
         pid_max, at most PID_LIMIT, so `seen` stays within 4 MB whatever the file says. */
      if (v > 0 && v < PID_LIMIT) {
        size_t pid = (size_t)v;
        if (pid >= w->seen_cap) {
          size_t nc = w->seen_cap ? w->seen_cap : 65536;
          while (nc <= pid) nc *= 2;
          unsigned char *ns = realloc(w->seen, nc);
          if (!ns) { rc = -2; break; }
          memset(ns + w->seen_cap, 0, nc - w->seen_cap);
          w->seen = ns;
          w->seen_cap = nc;
        }
        if (!w->seen[pid]) {
          w->seen[pid] = 1;
          if (ipush(&w->pids, (int32_t)pid) || ipush(&w->units, it.unit)) { rc = -2; break; }
        }
      }
      v = -1;
    }
    /* Subdirectories, by name (Node's readdir sorts; the walk's order decides only which listing of a pid that
       moved mid-walk counts), pushed so they are popped in reverse, as walkCgroupTree's stack does. */
    char **kids = NULL;
    size_t nk = 0, kc = 0;
    char dbuf[32768];
    while (rc == 0) {
      long nread = syscall(SYS_getdents64, dfd, dbuf, sizeof dbuf);
      if (nread < 0) { rc = -1; break; }
      if (nread == 0) break;
      for (long off = 0; off < nread && rc == 0;) {
        struct dirent64_raw *e = (struct dirent64_raw *)(dbuf + off);
        off += e->d_reclen;
        if (e->d_name[0] == '.' && (e->d_name[1] == 0 || (e->d_name[1] == '.' && e->d_name[2] == 0))) continue;
        int isdir = e->d_type == DT_DIR;
        if (e->d_type == DT_UNKNOWN) {
          struct stat st;
          isdir = fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
        }
        if (!isdir) continue;
        if (nk == kc) {
          size_t nc2 = kc ? kc * 2 : 16;
          char **nkids = realloc(kids, nc2 * sizeof *kids);
          if (!nkids) { rc = -2; break; }
          kids = nkids;
          kc = nc2;
        }
        kids[nk] = strdup(e->d_name);
        if (!kids[nk]) { rc = -2; break; }
        nk++;
      }
    }
    close(dfd);
    if (nk > 1) qsort(kids, nk, sizeof *kids, cmp_names);
    for (size_t i = 0; i < nk; i++) {
      if (rc == 0) {
        int unit = it.unit;
        if (is_unit_name(kids[i])) {
          unit = (int)w->name_at.n;
          if (ipush(&w->name_at, (int32_t)w->names.n) || cappend(&w->names, kids[i], strlen(kids[i]) + 1)) rc = -2;
        }
        size_t plen = strlen(it.path), klen = strlen(kids[i]);
        char *child = rc == 0 ? malloc(plen + klen + 2) : NULL;
        if (rc == 0 && !child) rc = -2;
        if (rc == 0) {
          memcpy(child, it.path, plen);
          child[plen] = '/';
          memcpy(child + plen + 1, kids[i], klen + 1);
          if (n == cap) {
            walk_item_t *ns2 = realloc(stack, cap * 2 * sizeof *stack);
            if (!ns2) { rc = -2; free(child); }
            else { stack = ns2; cap *= 2; }
          }
          if (rc == 0) { stack[n].path = child; stack[n].unit = unit; n++; }
        }
      }
      free(kids[i]);
    }
    free(kids);
    free(it.path);
  }
  while (n > 0) free(stack[--n].path);
  free(stack);
  free(buf);
  return rc;
}

/*
 * cgroupWalk(dir) → { pids: Int32Array, units: Int32Array, names: string[] } | null: every pid listed in the
 * hierarchy mounted at `dir`, with the index in `names` of the innermost `*.service`/`*.socket`/`*.scope` on its
 * cgroup path (-1: none), as walkCgroupTree returns it; null when any directory or cgroup.procs could not be read.
 */
static napi_value cgroup_walk(napi_env env, napi_callback_info cb) {
  size_t argc = 1;
  napi_value argv[1];
  char dir[4096];
  size_t dlen;
  if (napi_get_cb_info(env, cb, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || napi_get_value_string_utf8(env, argv[0], dir, sizeof dir, &dlen) != napi_ok || dlen >= sizeof dir - 1) {
    napi_throw_type_error(env, NULL, "cgroupWalk(dir)");
    return NULL;
  }
  walk_out_t w;
  memset(&w, 0, sizeof w);
  int rc = walk_tree(dir, &w);
  napi_value result = NULL;
  if (rc == -2) napi_throw_error(env, "ENOMEM", "cgroup walk: out of memory");
  else if (rc == -1) napi_get_null(env, &result);
  else {
    napi_value obj, v, ab, names;
    void *data;
    napi_status st = napi_create_object(env, &obj);
    if (st == napi_ok) st = napi_create_arraybuffer(env, w.pids.n * sizeof(int32_t), &data, &ab);
    if (st == napi_ok && w.pids.n) memcpy(data, w.pids.v, w.pids.n * sizeof(int32_t));
    if (st == napi_ok) st = napi_create_typedarray(env, napi_int32_array, w.pids.n, ab, 0, &v);
    if (st == napi_ok) st = napi_set_named_property(env, obj, "pids", v);
    if (st == napi_ok) st = napi_create_arraybuffer(env, w.units.n * sizeof(int32_t), &data, &ab);
    if (st == napi_ok && w.units.n) memcpy(data, w.units.v, w.units.n * sizeof(int32_t));
    if (st == napi_ok) st = napi_create_typedarray(env, napi_int32_array, w.units.n, ab, 0, &v);
    if (st == napi_ok) st = napi_set_named_property(env, obj, "units", v);
    if (st == napi_ok) st = napi_create_array_with_length(env, w.name_at.n, &names);
    for (size_t i = 0; st == napi_ok && i < w.name_at.n; i++) {
      st = napi_create_string_utf8(env, w.names.v + w.name_at.v[i], NAPI_AUTO_LENGTH, &v);
      if (st == napi_ok) st = napi_set_element(env, names, (uint32_t)i, v);
    }
    if (st == napi_ok) st = napi_set_named_property(env, obj, "names", names);
    if (st == napi_ok) result = obj;
    else napi_throw_error(env, NULL, "cgroup walk: could not build the result");
  }
  free(w.pids.v);
  free(w.units.v);
  free(w.names.v);
  free(w.name_at.v);
  free(w.seen);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "scan", NAPI_AUTO_LENGTH, scan, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "scan", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "scanStart", NAPI_AUTO_LENGTH, scan_start, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "scanStart", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "scanJoin", NAPI_AUTO_LENGTH, scan_join, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "scanJoin", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "cgroupWalk", NAPI_AUTO_LENGTH, cgroup_walk, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "cgroupWalk", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "diag", NAPI_AUTO_LENGTH, diag, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "diag", fn) != napi_ok) return NULL;
  return exports;
}
