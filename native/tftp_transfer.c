/*
 * The TFTP data path in native code (issue 4, bench/RESULTS.md "tftp"): one read transfer, from
 * the OACK (or DATA 1) to the last ACK, on Node's own libuv loop. No threads: a uv_poll_t watches
 * the transfer socket and a uv_timer_t is the retransmission timer, so a transfer costs what
 * tftpd-hpa or dnsmasq pay per block (one recvfrom, one sendmmsg per window, one pread per chunk)
 * instead of Node's dgram path (a 64 KiB malloc, an address string, a Buffer and an rinfo object
 * per datagram received, a SendWrap per datagram sent).
 *
 * The protocol rules are the ones of server/tftp/transfer.ts, the pure state machine that the
 * JavaScript path runs and that its tests pin down; the two are kept in step by running the same
 * real-client, lossy-relay and hostile-packet tests against both (test/server/tftp/):
 *   - blocks are numbered absolutely from 1; the wire carries the low 16 bits (rollover at 65536);
 *   - an ACK maps to the one absolute block in flight with those low bits;
 *   - duplicate ACKs never trigger a resend (no Sorcerer's Apprentice, RFC 1123 §4.2.3.1);
 *   - an ACK inside the window starts the next window right after it (RFC 7440 §4);
 *   - a timeout resends from the first unacknowledged block, with doubling timeouts up to a cap,
 *     and gives up after max_retries consecutive timeouts, telling the client;
 *   - a packet from a foreign transfer ID gets ERROR 5 and changes nothing (RFC 1350 §4);
 *     an ERROR is never answered; anything malformed is counted and ignored.
 *
 * JavaScript opens the file (rooted path checks), negotiates the options, encodes the OACK and
 * owns the file descriptor; this module owns the socket. It reports once, through the callback,
 * after its socket is closed.
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define OP_DATA 3
#define OP_ACK 4
#define OP_ERROR 5
#define OP_OACK 6
#define HDR 4
/* Datagrams per sendmmsg call; a larger window takes several calls. */
#define MAX_BATCH 64
/* Above 32767 blocks in flight a late ACK could be mistaken for a new one (16-bit block numbers). */
#define MAX_WINDOW 32767
#define RECV_BYTES 2048
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef SOL_UDP
#define SOL_UDP 17
#endif
/* UDP GSO limits: segments per send (the kernel's UDP_MAX_SEGMENTS) and bytes per send. */
#define GSO_MAX_SEGMENTS 64
#define GSO_MAX_BYTES 65000

enum phase { PH_OACK, PH_DATA, PH_DONE, PH_FAILED };

typedef struct transfer {
  napi_env env;
  napi_ref self;
  napi_ref on_end;
  napi_async_context actx;
  /* poll: the unconnected socket (foreign TIDs, and the client while there is no connected one);
   * cpoll: the socket connected to the client, which carries the transfer when it exists. */
  uv_poll_t poll;
  uv_poll_t cpoll;
  uv_timer_t timer;
  int handles_open;
  int sock;
  int conn;
  int file_fd;
  struct sockaddr_storage peer;
  socklen_t peer_len;
  uint64_t size;
  uint32_t blksize;
  uint32_t windowsize;
  uint64_t timeout_ms;
  uint64_t max_backoff_ms;
  uint32_t max_retries;
  uint8_t *oack;
  size_t oack_len;
  enum phase phase;
  uint64_t acked;
  uint64_t sent;
  uint64_t last_block;
  uint32_t retries;
  /* Blocks waiting for the socket to take them (EAGAIN): pend_next..pend_last. */
  uint64_t pend_next;
  uint64_t pend_last;
  int writable_wait;
  /* Set once a GSO send was refused (no kernel support, or a segment larger than the path MTU). */
  int no_gso;
  /* DATA packets ready-made: arena_count blocks from arena_first, stride apart. */
  uint8_t *arena;
  uint64_t arena_first;
  uint32_t arena_count;
  uint32_t chunk_blocks;
  size_t stride;
  int ended;
  int ok;
  /* Node's environment is going away (a worker ending): close quietly, call no JavaScript. */
  napi_async_cleanup_hook_handle hook;
  int env_closing;
  /* The JavaScript handle was collected while the uv handles were still closing. */
  int finalized;
  char reason[200];
  double blocks_sent, blocks_retransmitted, timeouts, duplicate_acks, foreign, malformed, send_errors;
  struct mmsghdr msgs[MAX_BATCH];
  struct iovec iov[MAX_BATCH];
  uint8_t rbuf[RECV_BYTES];
} transfer_t;

static void finish(transfer_t *t, int ok, const char *reason, int err_code, const char *err_msg);
static void arm_timer(transfer_t *t);

static uint32_t length_of(const transfer_t *t, uint64_t n) {
  uint64_t offset = (n - 1) * (uint64_t)t->blksize;
  if (offset >= t->size) return 0;
  uint64_t left = t->size - offset;
  return left < t->blksize ? (uint32_t)left : t->blksize;
}

/* Reads the chunk starting at block n into the arena and writes each block's DATA header. */
static int fill(transfer_t *t, uint64_t n) {
  uint64_t count = t->last_block - n + 1;
  if (count > t->chunk_blocks) count = t->chunk_blocks;
  uint64_t offset = (n - 1) * (uint64_t)t->blksize;
  uint64_t want = offset >= t->size ? 0 : t->size - offset;
  if (want > count * t->blksize) want = count * t->blksize;
  /* Read to the arena's tail, then move each block forward to its slot (never overlapping
   * a block not yet moved: block i's data starts at 4*count + i*blksize >= its slot's end). */
  uint8_t *base = t->arena + count * HDR;
  uint64_t got = 0;
  while (got < want) {
    ssize_t r = pread(t->file_fd, base + got, want - got, (off_t)(offset + got));
    if (r < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (r == 0) {
      errno = EIO;
      return -2;
    }
    got += (uint64_t)r;
  }
  for (uint64_t i = 0; i < count; i++) {
    uint8_t *slot = t->arena + i * t->stride;
    uint32_t len = length_of(t, n + i);
    memmove(slot + HDR, base + i * t->blksize, len);
    uint16_t wire = (uint16_t)((n + i) & 0xffff);
    slot[0] = 0;
    slot[1] = OP_DATA;
    slot[2] = (uint8_t)(wire >> 8);
    slot[3] = (uint8_t)(wire & 0xff);
  }
  t->arena_first = n;
  t->arena_count = (uint32_t)count;
  return 0;
}

static void on_poll(uv_poll_t *h, int status, int events);

/* The socket DATA goes out on, and its watcher. */
static int data_fd(const transfer_t *t) { return t->conn >= 0 ? t->conn : t->sock; }
static uv_poll_t *data_poll(transfer_t *t) { return t->conn >= 0 ? &t->cpoll : &t->poll; }

static void want_events(transfer_t *t, int writable) {
  if (t->writable_wait == writable) return;
  t->writable_wait = writable;
  uv_poll_start(data_poll(t), UV_READABLE | (writable ? UV_WRITABLE : 0), on_poll);
}

/*
 * Several consecutive blocks in one sendmsg with UDP GSO (UDP_SEGMENT): the packets sit `stride`
 * apart in the arena, each exactly stride bytes but the file's last, so they are one buffer the
 * kernel cuts into datagrams; the stack is traversed once per window instead of once per block.
 * Returns the blocks sent, -1 when GSO is refused (no_gso is set), -2 on EAGAIN, -3 on another
 * error.
 */
static int send_gso(transfer_t *t, uint64_t n, unsigned count) {
  unsigned k = count;
  if (k > GSO_MAX_SEGMENTS) k = GSO_MAX_SEGMENTS;
  if (k > GSO_MAX_BYTES / t->stride) k = (unsigned)(GSO_MAX_BYTES / t->stride);
  if (k < 2) {
    t->no_gso = 1;
    return -1;
  }
  struct iovec iov;
  iov.iov_base = t->arena + (n - t->arena_first) * t->stride;
  iov.iov_len = (size_t)(k - 1) * t->stride + HDR + length_of(t, n + k - 1);
  union {
    char buf[CMSG_SPACE(sizeof(uint16_t))];
    struct cmsghdr align;
  } control;
  memset(&control, 0, sizeof control);
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  if (t->conn < 0) {
    msg.msg_name = &t->peer;
    msg.msg_namelen = t->peer_len;
  }
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.buf;
  msg.msg_controllen = sizeof control.buf;
  struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
  cm->cmsg_level = SOL_UDP;
  cm->cmsg_type = UDP_SEGMENT;
  cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
  uint16_t gso = (uint16_t)t->stride;
  memcpy(CMSG_DATA(cm), &gso, sizeof gso);
  ssize_t r;
  do r = sendmsg(data_fd(t), &msg, 0);
  while (r < 0 && errno == EINTR);
  if (r >= 0) return (int)k;
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) return -2;
  if (errno == EINVAL || errno == EIO || errno == ENOPROTOOPT || errno == EOPNOTSUPP || errno == EMSGSIZE) {
    t->no_gso = 1;
    return -1;
  }
  return -3;
}

/* Sends the pending blocks, as many per sendmmsg as the arena holds. Returns 0, or -1 after
 * finishing the transfer (a read error). */
static int pump(transfer_t *t) {
  while (t->pend_next <= t->pend_last && !t->ended) {
    uint64_t n = t->pend_next;
    if (n < t->arena_first || n >= t->arena_first + t->arena_count) {
      int r = fill(t, n);
      if (r != 0) {
        char why[160];
        snprintf(why, sizeof why, r == -2 ? "file shrank during the transfer" : "read error: %s", strerror(errno));
        finish(t, 0, why, 0, "read error");
        return -1;
      }
    }
    uint64_t end = t->pend_last;
    uint64_t arena_end = t->arena_first + t->arena_count - 1;
    if (end > arena_end) end = arena_end;
    unsigned count = (unsigned)(end - n + 1);
    if (count > 1 && !t->no_gso) {
      int sent = send_gso(t, n, count);
      if (sent > 0) {
        t->pend_next += (uint64_t)sent;
        continue;
      }
      if (sent == -2) {
        want_events(t, 1);
        return 0;
      }
      if (sent == -3) {
        t->send_errors++;
        t->pend_next = t->pend_last + 1;
        break;
      }
      /* -1: GSO refused; this transfer sends one datagram per message from now on. */
    }
    if (count > MAX_BATCH) count = MAX_BATCH;
    for (unsigned i = 0; i < count; i++) {
      uint8_t *slot = t->arena + (n + i - t->arena_first) * t->stride;
      t->iov[i].iov_base = slot;
      t->iov[i].iov_len = HDR + length_of(t, n + i);
      memset(&t->msgs[i].msg_hdr, 0, sizeof t->msgs[i].msg_hdr);
      if (t->conn < 0) {
        t->msgs[i].msg_hdr.msg_name = &t->peer;
        t->msgs[i].msg_hdr.msg_namelen = t->peer_len;
      }
      t->msgs[i].msg_hdr.msg_iov = &t->iov[i];
      t->msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int sent = count == 1 ? (int)sendmsg(data_fd(t), &t->msgs[0].msg_hdr, 0) : sendmmsg(data_fd(t), t->msgs, count, 0);
    if (count == 1 && sent > 0) sent = 1;
    if (sent < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
        want_events(t, 1);
        return 0;
      }
      /* Anything else (an ICMP error reported late, a route gone): the timer resends. */
      t->send_errors++;
      t->pend_next = t->pend_last + 1;
      break;
    }
    t->pend_next += (uint64_t)sent;
  }
  if (t->pend_next > t->pend_last) want_events(t, 0);
  return 0;
}

static void send_window(transfer_t *t, uint64_t first) {
  uint64_t last = first + t->windowsize - 1;
  if (last > t->last_block) last = t->last_block;
  uint64_t count = last - first + 1;
  uint64_t prev = t->sent > first - 1 ? t->sent : first - 1;
  uint64_t fresh = last > prev ? last - prev : 0;
  t->blocks_sent += (double)count;
  t->blocks_retransmitted += (double)(count - fresh);
  if (last > t->sent) t->sent = last;
  t->pend_next = first;
  t->pend_last = last;
  arm_timer(t);
  pump(t);
}

static void send_to(transfer_t *t, const void *buf, size_t len, const struct sockaddr *to, socklen_t to_len) {
  ssize_t r;
  do r = sendto(t->sock, buf, len, 0, to, to_len);
  while (r < 0 && errno == EINTR);
  if (r < 0) t->send_errors++;
}

/* To the client: through the connected socket when there is one. */
static void send_peer(transfer_t *t, const void *buf, size_t len) {
  if (t->conn < 0) {
    send_to(t, buf, len, (struct sockaddr *)&t->peer, t->peer_len);
    return;
  }
  ssize_t r;
  do r = send(t->conn, buf, len, 0);
  while (r < 0 && errno == EINTR);
  if (r < 0) t->send_errors++;
}

static size_t error_packet(uint8_t *out, size_t cap, int code, const char *msg) {
  size_t len = strlen(msg);
  if (len > cap - 5) len = cap - 5;
  out[0] = 0;
  out[1] = OP_ERROR;
  out[2] = (uint8_t)((code >> 8) & 0xff);
  out[3] = (uint8_t)(code & 0xff);
  memcpy(out + 4, msg, len);
  out[4 + len] = 0;
  return len + 5;
}

static uint64_t current_timeout(const transfer_t *t) {
  uint64_t cap = t->max_backoff_ms > t->timeout_ms ? t->max_backoff_ms : t->timeout_ms;
  uint64_t ms = t->timeout_ms;
  for (uint32_t i = 0; i < t->retries && ms < cap; i++) ms *= 2;
  return ms < cap ? ms : cap;
}

static void on_timeout(uv_timer_t *h);

static void arm_timer(transfer_t *t) {
  uv_timer_start(&t->timer, on_timeout, current_timeout(t), 0);
}

static void on_timeout(uv_timer_t *h) {
  transfer_t *t = (transfer_t *)h->data;
  if (t->ended) return;
  t->timeouts++;
  t->retries++;
  if (t->retries > t->max_retries) {
    char why[96];
    snprintf(why, sizeof why, "no answer after %u retransmissions", t->max_retries);
    finish(t, 0, why, 0, "transfer timed out");
    return;
  }
  if (t->phase == PH_OACK) {
    send_peer(t, t->oack, t->oack_len);
    arm_timer(t);
    return;
  }
  send_window(t, t->acked + 1);
}

static void on_ack(transfer_t *t, uint16_t wire) {
  if (t->phase == PH_OACK) {
    if (wire != 0) return;
    t->phase = PH_DATA;
    t->retries = 0;
    send_window(t, 1);
    return;
  }
  if (t->phase != PH_DATA) return;
  uint16_t delta = (uint16_t)(wire - (uint16_t)(t->acked & 0xffff));
  if (delta == 0) {
    t->duplicate_acks++;
    return;
  }
  uint64_t block = t->acked + delta;
  if (block > t->sent) return; /* never sent: a stale ACK from before a wrap, or junk */
  t->acked = block;
  t->retries = 0;
  if (block == t->last_block) {
    t->phase = PH_DONE;
    finish(t, 1, "complete", -1, NULL);
    return;
  }
  send_window(t, block + 1);
}

static int same_peer(const transfer_t *t, const struct sockaddr_storage *from) {
  if (from->ss_family != t->peer.ss_family) return 0;
  if (from->ss_family == AF_INET) {
    const struct sockaddr_in *a = (const struct sockaddr_in *)from, *b = (const struct sockaddr_in *)&t->peer;
    return a->sin_port == b->sin_port && a->sin_addr.s_addr == b->sin_addr.s_addr;
  }
  const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)from, *b = (const struct sockaddr_in6 *)&t->peer;
  return a->sin6_port == b->sin6_port && a->sin6_scope_id == b->sin6_scope_id && memcmp(&a->sin6_addr, &b->sin6_addr, sizeof a->sin6_addr) == 0;
}

/* The client's ERROR message, made printable and bounded, for the log. */
static void client_error(transfer_t *t, const uint8_t *p, size_t n) {
  int code = n >= 4 ? (p[2] << 8) | p[3] : 0;
  char msg[120];
  size_t j = 0;
  for (size_t i = 4; i < n && p[i] != 0 && j < sizeof msg - 1; i++) msg[j++] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '?';
  msg[j] = 0;
  char why[180];
  snprintf(why, sizeof why, "client error %d: %s", code, msg);
  t->phase = PH_FAILED;
  finish(t, 0, why, -1, NULL);
}

/*
 * One datagram from `fd`. The source is checked on both sockets: the connected one can still hold
 * what arrived between its bind and its connect (and kernels before 5.4 spread foreign datagrams
 * over connected members of a SO_REUSEPORT group too).
 */
static void on_readable(transfer_t *t, int fd) {
  struct sockaddr_storage from;
  socklen_t from_len = sizeof from;
  ssize_t n = recvfrom(fd, t->rbuf, sizeof t->rbuf, MSG_TRUNC, (struct sockaddr *)&from, &from_len);
  if (n < 0) return; /* EAGAIN, or an ICMP error queued on the socket: the timer covers it */
  size_t len = (size_t)n > sizeof t->rbuf ? sizeof t->rbuf : (size_t)n;
  if (!same_peer(t, &from)) {
    t->foreign++;
    if (len >= 2 && !(t->rbuf[0] == 0 && t->rbuf[1] == OP_ERROR)) {
      uint8_t out[64];
      size_t m = error_packet(out, sizeof out, 5, "unknown transfer ID");
      send_to(t, out, m, (struct sockaddr *)&from, from_len);
    }
    return;
  }
  /* Some firmware pads its ACKs (to a minimum frame size); the block number is what counts. */
  if (len >= 4 && t->rbuf[0] == 0 && t->rbuf[1] == OP_ACK) {
    on_ack(t, (uint16_t)((t->rbuf[2] << 8) | t->rbuf[3]));
    return;
  }
  if (len >= 4 && t->rbuf[0] == 0 && t->rbuf[1] == OP_ERROR) {
    /* As decode.ts: a message may lack its NUL, but not run past 1024 bytes without one. */
    if (len - 4 > 1024 && memchr(t->rbuf + 4, 0, len - 4) == NULL) {
      t->malformed++;
      return;
    }
    client_error(t, t->rbuf, len);
    return;
  }
  t->malformed++;
}

static void on_poll(uv_poll_t *h, int status, int events) {
  transfer_t *t = (transfer_t *)h->data;
  if (t->ended) return;
  if (status < 0) {
    /* A socket error (e.g. an ICMP port unreachable): read it off the socket and carry on. */
    int err = 0;
    socklen_t l = sizeof err;
    getsockopt(h == &t->cpoll ? t->conn : t->sock, SOL_SOCKET, SO_ERROR, &err, &l);
    /* libuv stopped the watcher before reporting the error: start it again, or the client's
     * ACKs would sit unread (a connected socket gets such errors from ICMP messages). */
    if (h == data_poll(t)) {
      int w = t->writable_wait;
      t->writable_wait = -1;
      want_events(t, w);
    } else {
      uv_poll_start(h, UV_READABLE, on_poll);
    }
    return;
  }
  if ((events & UV_WRITABLE) && h == data_poll(t)) pump(t);
  if (!t->ended && (events & UV_READABLE)) on_readable(t, h == &t->cpoll ? t->conn : t->sock);
}

static void report(transfer_t *t) {
  napi_env env = t->env;
  if (t->env_closing) {
    free(t->arena);
    t->arena = NULL;
    free(t->oack);
    t->oack = NULL;
    return;
  }
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value cb, recv, argv[2], stats, v;
  napi_get_reference_value(env, t->on_end, &cb);
  napi_get_reference_value(env, t->self, &recv);
  napi_get_boolean(env, t->ok, &argv[0]);
  napi_create_object(env, &stats);
  napi_create_string_utf8(env, t->reason, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, stats, "reason", v);
#define STAT(name)                            \
  napi_create_double(env, t->name, &v);       \
  napi_set_named_property(env, stats, #name, v);
  STAT(blocks_sent)
  STAT(blocks_retransmitted)
  STAT(timeouts)
  STAT(duplicate_acks)
  STAT(foreign)
  STAT(malformed)
  STAT(send_errors)
#undef STAT
  argv[1] = stats;
  napi_value result;
  napi_make_callback(env, t->actx, recv, cb, 2, argv, &result);
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) {
    napi_value exc;
    napi_get_and_clear_last_exception(env, &exc);
    napi_fatal_exception(env, exc);
  }
  napi_close_handle_scope(env, scope);
  napi_async_destroy(env, t->actx);
  napi_delete_reference(env, t->on_end);
  /* The JS object may now be collected; its finalizer frees the struct. */
  napi_delete_reference(env, t->self);
  free(t->arena);
  t->arena = NULL;
  free(t->oack);
  t->oack = NULL;
}

static void on_closed(uv_handle_t *h) {
  transfer_t *t = (transfer_t *)h->data;
  if (--t->handles_open == 0) {
    close(t->sock);
    t->sock = -1;
    if (t->conn >= 0) close(t->conn);
    t->conn = -1;
    report(t);
    if (t->hook) {
      napi_remove_async_cleanup_hook(t->hook);
      t->hook = NULL;
    }
    if (t->finalized) free(t);
  }
}

/* The environment is being torn down with the transfer running: end it and let it close. */
static void on_env_cleanup(napi_async_cleanup_hook_handle handle, void *data) {
  (void)handle;
  transfer_t *t = (transfer_t *)data;
  t->env_closing = 1;
  if (!t->ended) finish(t, 0, "process exiting", 0, "server shutting down");
}

/* Ends the transfer once: stops the handles, optionally tells the client (err_code >= 0). */
static void finish(transfer_t *t, int ok, const char *reason, int err_code, const char *err_msg) {
  if (t->ended) return;
  t->ended = 1;
  t->ok = ok;
  if (t->phase != PH_DONE) t->phase = PH_FAILED;
  snprintf(t->reason, sizeof t->reason, "%s", reason);
  if (err_code >= 0 && err_msg) {
    uint8_t out[160];
    size_t m = error_packet(out, sizeof out, err_code, err_msg);
    send_peer(t, out, m);
  }
  uv_poll_stop(&t->poll);
  uv_timer_stop(&t->timer);
  uv_close((uv_handle_t *)&t->poll, on_closed);
  uv_close((uv_handle_t *)&t->timer, on_closed);
  if (t->conn >= 0) {
    uv_poll_stop(&t->cpoll);
    uv_close((uv_handle_t *)&t->cpoll, on_closed);
  }
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  transfer_t *t = (transfer_t *)data;
  if (t->handles_open > 0) {
    t->finalized = 1; /* on_closed frees it */
    return;
  }
  free(t->arena);
  free(t->oack);
  free(t);
}

/* ---- JavaScript bindings ---- */

static napi_value throw_error(napi_env env, const char *code, const char *msg) {
  napi_throw_error(env, code, msg);
  return NULL;
}

static int get_double(napi_env env, napi_value obj, const char *name, double *out) {
  napi_value v;
  if (napi_get_named_property(env, obj, name, &v) != napi_ok) return -1;
  return napi_get_value_double(env, v, out) == napi_ok ? 0 : -1;
}

static int get_string(napi_env env, napi_value obj, const char *name, char *out, size_t cap) {
  napi_value v;
  size_t len;
  if (napi_get_named_property(env, obj, name, &v) != napi_ok) return -1;
  return napi_get_value_string_utf8(env, v, out, cap, &len) == napi_ok && len < cap - 1 ? 0 : -1;
}

/* A numeric IPv4 or IPv6 address (with a %scope for link-local IPv6) and a port. */
static int parse_addr(const char *host, int port, struct sockaddr_storage *out, socklen_t *len) {
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_flags = AI_NUMERICHOST;
  hints.ai_socktype = SOCK_DGRAM;
  if (getaddrinfo(host, NULL, &hints, &res) != 0 || !res) return -1;
  int ok = res->ai_addrlen <= sizeof *out && (res->ai_family == AF_INET || res->ai_family == AF_INET6);
  if (ok) {
    memset(out, 0, sizeof *out);
    memcpy(out, res->ai_addr, res->ai_addrlen);
    *len = (socklen_t)res->ai_addrlen;
    if (res->ai_family == AF_INET) ((struct sockaddr_in *)out)->sin_port = htons((uint16_t)port);
    else ((struct sockaddr_in6 *)out)->sin6_port = htons((uint16_t)port);
  }
  freeaddrinfo(res);
  return ok ? 0 : -1;
}

/*
 * start({ bindHost, peerHost, peerPort, fd, size, blksize, windowsize, timeoutMs, maxBackoffMs,
 *         maxRetries, chunkBlocks, oack: Buffer | null }, onEnd(ok, stats)) → { port, handle }
 */
static napi_value start(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], this_arg;
  napi_get_cb_info(env, info, &argc, argv, &this_arg, NULL);
  if (argc < 2) return throw_error(env, "ERR_ARGS", "start(options, onEnd)");
  napi_valuetype cbt;
  napi_typeof(env, argv[1], &cbt);
  if (cbt != napi_function) return throw_error(env, "ERR_ARGS", "onEnd must be a function");

  char bind_host[64], peer_host[64];
  double peer_port, fd, size, blksize, windowsize, timeout_ms, max_backoff_ms, max_retries, chunk_blocks;
  if (get_string(env, argv[0], "bindHost", bind_host, sizeof bind_host) || get_string(env, argv[0], "peerHost", peer_host, sizeof peer_host) ||
      get_double(env, argv[0], "peerPort", &peer_port) || get_double(env, argv[0], "fd", &fd) || get_double(env, argv[0], "size", &size) ||
      get_double(env, argv[0], "blksize", &blksize) || get_double(env, argv[0], "windowsize", &windowsize) ||
      get_double(env, argv[0], "timeoutMs", &timeout_ms) || get_double(env, argv[0], "maxBackoffMs", &max_backoff_ms) ||
      get_double(env, argv[0], "maxRetries", &max_retries) || get_double(env, argv[0], "chunkBlocks", &chunk_blocks))
    return throw_error(env, "ERR_ARGS", "bad transfer options");
  if (!(blksize >= 8 && blksize <= 65464) || !(windowsize >= 1 && windowsize <= MAX_WINDOW) || !(size >= 0 && size <= 9007199254740991.0) ||
      !(fd >= 0 && fd <= INT_MAX) || !(peer_port >= 1 && peer_port <= 65535) || !(timeout_ms >= 1 && timeout_ms <= 3.6e6) ||
      !(max_backoff_ms >= 0 && max_backoff_ms <= 3.6e6) || !(max_retries >= 0 && max_retries <= 1000) || !(chunk_blocks >= windowsize && chunk_blocks <= (1 << 24)) ||
      blksize != floor(blksize) || windowsize != floor(windowsize) || chunk_blocks != floor(chunk_blocks) || fd != floor(fd) || peer_port != floor(peer_port) ||
      (size_t)chunk_blocks > SIZE_MAX / (HDR + (size_t)blksize))
    return throw_error(env, "ERR_ARGS", "transfer options out of range");

  transfer_t *t = calloc(1, sizeof *t);
  if (!t) return throw_error(env, "ERR_NOMEM", "out of memory");
  t->env = env;
  t->sock = -1;
  t->conn = -1;
  t->file_fd = (int)fd;
  t->size = (uint64_t)size;
  t->blksize = (uint32_t)blksize;
  t->windowsize = (uint32_t)windowsize;
  t->timeout_ms = (uint64_t)timeout_ms;
  t->max_backoff_ms = (uint64_t)max_backoff_ms;
  t->max_retries = (uint32_t)max_retries;
  t->chunk_blocks = (uint32_t)chunk_blocks;
  t->last_block = t->size / t->blksize + 1;
  t->stride = HDR + t->blksize;
  t->arena_first = 1;
  t->arena_count = 0;
  t->arena = malloc((size_t)t->chunk_blocks * t->stride);
  if (!t->arena) {
    free(t);
    return throw_error(env, "ERR_NOMEM", "out of memory");
  }

  napi_value oack_v;
  napi_valuetype ot;
  napi_get_named_property(env, argv[0], "oack", &oack_v);
  napi_typeof(env, oack_v, &ot);
  if (ot == napi_object) {
    void *data;
    size_t len;
    if (napi_get_buffer_info(env, oack_v, &data, &len) != napi_ok || len == 0 || len > 65535) {
      free(t->arena);
      free(t);
      return throw_error(env, "ERR_ARGS", "oack must be a Buffer");
    }
    t->oack = malloc(len);
    if (!t->oack) {
      free(t->arena);
      free(t);
      return throw_error(env, "ERR_NOMEM", "out of memory");
    }
    memcpy(t->oack, data, len);
    t->oack_len = len;
  }

  struct sockaddr_storage local;
  socklen_t local_len;
  if (parse_addr(peer_host, (int)peer_port, &t->peer, &t->peer_len) || parse_addr(bind_host, 0, &local, &local_len) ||
      local.ss_family != t->peer.ss_family) {
    free(t->oack);
    free(t->arena);
    free(t);
    return throw_error(env, "ERR_ARGS", "bad address");
  }
  int one = 1;
  t->sock = socket(local.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  /* Bound before SO_REUSEPORT is set, so the kernel picks a port no other transfer holds. */
  if (t->sock < 0 || bind(t->sock, (struct sockaddr *)&local, local_len) != 0) {
    char msg[120];
    snprintf(msg, sizeof msg, "transfer socket: %s", strerror(errno));
    if (t->sock >= 0) close(t->sock);
    free(t->oack);
    free(t->arena);
    free(t);
    return throw_error(env, "ERR_SOCKET", msg);
  }
  getsockname(t->sock, (struct sockaddr *)&local, &local_len);
  setsockopt(t->sock, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  int port = local.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&local)->sin_port) : ntohs(((struct sockaddr_in6 *)&local)->sin6_port);
  /*
   * A second socket on the same port, connected to the client: the kernel hands it the client's
   * datagrams (a connected socket outscores an unconnected one, and SO_REUSEPORT groups skip
   * connected members), and sends on it skip the per-datagram route lookup. Everything else
   * still reaches the unconnected socket, which answers foreign TIDs with ERROR 5. SO_REUSEPORT
   * only lets sockets of the same user share the port. Without it the transfer runs on the
   * unconnected socket alone.
   */
  t->conn = socket(local.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (t->conn >= 0 && (setsockopt(t->conn, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0 || bind(t->conn, (struct sockaddr *)&local, local_len) != 0 ||
                       connect(t->conn, (struct sockaddr *)&t->peer, t->peer_len) != 0)) {
    close(t->conn);
    t->conn = -1;
  }

  uv_loop_t *loop;
  napi_get_uv_event_loop(env, &loop);
  if (uv_poll_init_socket(loop, &t->poll, t->sock) != 0) {
    close(t->sock);
    if (t->conn >= 0) close(t->conn);
    free(t->oack);
    free(t->arena);
    free(t);
    return throw_error(env, "ERR_SOCKET", "transfer socket: cannot watch it");
  }
  uv_timer_init(loop, &t->timer);
  t->poll.data = t;
  t->timer.data = t;
  t->handles_open = 2;
  if (t->conn >= 0 && uv_poll_init_socket(loop, &t->cpoll, t->conn) != 0) {
    /* Cannot watch the connected socket: run on the unconnected one alone. */
    close(t->conn);
    t->conn = -1;
  }
  if (t->conn >= 0) {
    t->cpoll.data = t;
    t->handles_open = 3;
    uv_poll_start(&t->poll, UV_READABLE, on_poll);
  }

  napi_value handle, name, port_v;
  napi_create_object(env, &handle);
  napi_wrap(env, handle, t, finalize, NULL, NULL);
  napi_create_reference(env, handle, 1, &t->self);
  napi_create_reference(env, argv[1], 1, &t->on_end);
  napi_create_string_utf8(env, "osdeployTftpTransfer", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, handle, name, &t->actx);
  napi_add_async_cleanup_hook(env, on_env_cleanup, t, &t->hook);
  napi_create_uint32(env, (uint32_t)port, &port_v);
  napi_set_named_property(env, handle, "port", port_v);

  t->writable_wait = -1;
  want_events(t, 0);
  if (t->oack) {
    t->phase = PH_OACK;
    send_peer(t, t->oack, t->oack_len);
    arm_timer(t);
  } else {
    t->phase = PH_DATA;
    send_window(t, 1);
  }
  return handle;
}

/* abort(handle, reason): ends a running transfer, telling the client the server is shutting down. */
static napi_value abort_transfer(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  transfer_t *t;
  if (argc < 1 || napi_unwrap(env, argv[0], (void **)&t) != napi_ok) return throw_error(env, "ERR_ARGS", "abort(handle, reason)");
  char reason[120] = "aborted";
  size_t len;
  if (argc >= 2) napi_get_value_string_utf8(env, argv[1], reason, sizeof reason, &len);
  finish(t, 0, reason, 0, "server shutting down");
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"start", NULL, start, NULL, NULL, NULL, napi_default, NULL},
      {"abort", NULL, abort_transfer, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
