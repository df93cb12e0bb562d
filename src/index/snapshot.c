/*
 * snapshot.c - writing and loading the index snapshot (see snapshot.h).
 *
 * Layout, in the host's byte order (checked by a byte-order mark):
 *   header   magic "SNINDEX\0", format (u32), byte-order mark (u32),
 *            store id (32 hex digits), position (u64), reserved (u64 0):
 *            HEADER_BYTES
 *   records  one a block (blocks.h, sn_blocks_save), in no order
 *   trailer  END_MARK (u64, never a block id), blocks (u64), numbers (u64)
 *   padding  0-7 zero bytes, so the digests start at a multiple of 8
 *   digests  the digest tables as sn_digests_save writes them (digests_io.c),
 *            none when the index leaves digests out (--hashed-checks off)
 *   length   bytes of the digests part (u64; 0: none)
 *   checksum SHA-256 (OpenSSL's, which uses the CPU's SHA instructions
 *            where there are some) of all the above
 * A load with digests serves the saved tables where they lie in the file
 * (a mapping of their part, handed to the tables: no hashing, no copy)
 * when there are some, else builds them from the states; one without
 * ignores them. That mapping keeps the file's inode until a merge of the
 * tables replaces them: a later snapshot renamed over PATH frees the old
 * one's disk space only then, and nothing may write into PATH in place.
 * Invariants: PATH is only ever replaced by rename(2) of a whole, fsynced
 * PATH.tmp (then the folder is fsynced); a refused snapshot leaves the
 * index empty, as it was. A load checks the checksum on a thread of its
 * own while it reads the file (a quarter of a 100M load was the checksum
 * alone): the reading trusts nothing in the file (every length, offset and
 * position is checked), and what it put in the index is taken out again
 * when the checksum then disagrees. A whole file whose header or body is
 * refused still says so; a damaged one says "checksum mismatch" whatever
 * else failed on it.
 */
#include "index/snapshot.h"

#include "core/errors.h"
#include "index/blocks.h"
#include "util/thread.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "SNINDEX" /* with its NUL: 8 bytes */
#define BYTE_ORDER_MARK 0x01020304u
#define HEADER_BYTES 64
#define TRAILER_BYTES 24
#define LENGTH_BYTES 8 /* the digests part's length */
#define SUM_BYTES 32   /* SHA-256 */
#define MIN_BYTES (HEADER_BYTES + TRAILER_BYTES + LENGTH_BYTES + SUM_BYTES)
#define END_MARK UINT64_MAX
#define WRITE_BUFFER (1u << 20) /* bytes gathered before a write(2) */
#define FILE_MODE 0600          /* as private as the store: it holds every number's state */

/* ---- writing --------------------------------------------------------------- */

typedef struct {
    int fd;
    uint8_t *buf; /* WRITE_BUFFER bytes */
    size_t len;
    EVP_MD_CTX *sum;
    uint64_t blocks, numbers, bytes, digest_bytes;
    int error; /* errno of a failed write; 0 */
} out_file;

static int flush_out(out_file *o)
{
    for (size_t done = 0; done < o->len && o->error == 0;) {
        ssize_t n = write(o->fd, o->buf + done, o->len - done);
        if (n < 0 && errno != EINTR)
            o->error = errno;
        else if (n > 0)
            done += (size_t)n;
    }
    o->len = 0;
    return o->error == 0 ? 0 : -1;
}

/* Append bytes to the file and the checksum. */
static int put_bytes(out_file *o, const void *p, size_t len)
{
    if (EVP_DigestUpdate(o->sum, p, len) != 1)
        return -1;
    o->bytes += len;
    while (len > 0) {
        size_t room = WRITE_BUFFER - o->len, take = len < room ? len : room;
        memcpy(o->buf + o->len, p, take);
        o->len += take;
        p = (const uint8_t *)p + take;
        len -= take;
        if (o->len == WRITE_BUFFER && flush_out(o) != 0)
            return -1;
    }
    return 0;
}

static int put_record(void *ctx, const uint8_t *rec, size_t len)
{
    out_file *o = ctx;
    uint16_t n;
    memcpy(&n, rec + 8, 2);
    o->blocks++;
    o->numbers += n;
    return put_bytes(o, rec, len);
}

static int put_digests(void *ctx, const void *p, size_t len)
{
    out_file *o = ctx;
    o->digest_bytes += len;
    return put_bytes(o, p, len);
}

static void header_of(uint8_t h[HEADER_BYTES], const char *store_id, uint64_t position)
{
    uint32_t format = SN_SNAPSHOT_FORMAT, mark = BYTE_ORDER_MARK;
    memset(h, 0, HEADER_BYTES);
    memcpy(h, MAGIC, 8);
    memcpy(h + 8, &format, 4);
    memcpy(h + 12, &mark, 4);
    memcpy(h + 16, store_id, SN_STORE_ID_LEN);
    memcpy(h + 48, &position, 8);
}

/* Header, every block, trailer, checksum into o. */
static int write_body(out_file *o, sn_numindex *ix, const char *store_id, uint64_t position)
{
    uint8_t head[HEADER_BYTES], sum[SUM_BYTES];
    uint8_t *rec = malloc(SN_BLOCK_RECORD_MAX);
    if (rec == NULL)
        return SN_ENOMEM;
    header_of(head, store_id, position);
    int rc = put_bytes(o, head, sizeof(head)) == 0 &&
                     sn_blocks_save(sn_numindex_states(ix), rec, put_record, o) == 0
                 ? SN_OK
                 : (o->error == 0 ? SN_ENOMEM : SN_EIO);
    free(rec);
    static const uint8_t zeros[8];
    uint64_t trailer[3] = {END_MARK, o->blocks, o->numbers};
    if (rc == SN_OK && put_bytes(o, trailer, sizeof(trailer)) != 0)
        rc = SN_EIO;
    if (rc == SN_OK && put_bytes(o, zeros, (8 - o->bytes % 8) % 8) != 0)
        rc = SN_EIO; /* the digests 8-aligned, served where they lie */
    sn_digests *d = sn_numindex_digests(ix);
    if (rc == SN_OK && d != NULL && sn_digests_save(d, put_digests, o) != 0)
        rc = o->error == 0 ? SN_ENOMEM : SN_EIO;
    if (rc == SN_OK && put_bytes(o, &o->digest_bytes, LENGTH_BYTES) != 0)
        rc = SN_EIO;
    if (rc == SN_OK && EVP_DigestFinal_ex(o->sum, sum, NULL) != 1)
        rc = SN_ENOMEM;
    o->bytes += sizeof(sum);
    if (rc == SN_OK) {
        size_t room = WRITE_BUFFER - o->len; /* the checksum is not summed */
        if (room < sizeof(sum) && flush_out(o) != 0)
            return SN_EIO;
        memcpy(o->buf + o->len, sum, sizeof(sum));
        o->len += sizeof(sum);
        rc = flush_out(o) == 0 ? SN_OK : SN_EIO;
    }
    return rc;
}

/* fsync the folder holding path, so the rename into it lasts. */
static int sync_folder(const char *path)
{
    char copy[SN_SNAPSHOT_PATH_MAX];
    snprintf(copy, sizeof(copy), "%s", path);
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int sn_snapshot_write(const char *path, sn_numindex *ix, const char *store_id, uint64_t position,
                      sn_snapshot_info *info, char *err, size_t errlen)
{
    char tmp[SN_SNAPSHOT_PATH_MAX + 8];
    if (strlen(path) >= SN_SNAPSHOT_PATH_MAX || strlen(store_id) != SN_STORE_ID_LEN)
        return sn_fail(err, errlen, SN_EINVAL, "snapshot path too long, or no store id");
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    out_file o = {.fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, FILE_MODE)};
    if (o.fd < 0)
        return sn_fail(err, errlen, SN_EIO, "cannot create %s: %s", tmp, strerror(errno));
    o.buf = malloc(WRITE_BUFFER);
    o.sum = EVP_MD_CTX_new();
    if (o.buf == NULL || o.sum == NULL || EVP_DigestInit_ex(o.sum, EVP_sha256(), NULL) != 1) {
        free(o.buf);
        EVP_MD_CTX_free(o.sum);
        close(o.fd);
        unlink(tmp);
        return sn_fail(err, errlen, SN_ENOMEM, "out of memory writing the snapshot");
    }
    int rc = write_body(&o, ix, store_id, position);
    free(o.buf);
    EVP_MD_CTX_free(o.sum);
    if (rc == SN_OK && (fchmod(o.fd, FILE_MODE) != 0 || fsync(o.fd) != 0))
        o.error = errno, rc = SN_EIO;
    if (close(o.fd) != 0 && rc == SN_OK)
        o.error = errno, rc = SN_EIO;
    if (rc == SN_OK && rename(tmp, path) != 0)
        o.error = errno, rc = SN_EIO;
    if (rc != SN_OK) {
        unlink(tmp);
        return rc == SN_ENOMEM ? sn_fail(err, errlen, rc, "out of memory writing the snapshot")
                               : sn_fail(err, errlen, rc, "cannot write %s: %s", tmp,
                                         strerror(o.error != 0 ? o.error : EIO));
    }
    if (sync_folder(path) != 0)
        return sn_fail(err, errlen, SN_EIO, "cannot sync the folder of %s: %s", path,
                       strerror(errno));
    if (info != NULL) {
        *info = (sn_snapshot_info){.position = position,
                                   .numbers = o.numbers,
                                   .blocks = o.blocks,
                                   .bytes = o.bytes,
                                   .digest_bytes = o.digest_bytes};
        snprintf(info->store_id, sizeof(info->store_id), "%s", store_id);
    }
    return SN_OK;
}

/* ---- loading --------------------------------------------------------------- */

/* The header's checks, in the order a reader wants the reason. */
static int check_header(const uint8_t *p, const char *store_id, uint64_t cursor,
                        sn_snapshot_info *info, char *err, size_t errlen)
{
    uint32_t format, mark;
    memcpy(&format, p + 8, 4);
    memcpy(&mark, p + 12, 4);
    if (memcmp(p, MAGIC, 8) != 0 || mark != BYTE_ORDER_MARK)
        return sn_fail(err, errlen, SN_EINVAL, "not an index snapshot of this machine's kind");
    if (format != SN_SNAPSHOT_FORMAT)
        return sn_fail(err, errlen, SN_EINVAL, "format version %u, this build reads %d", format,
                       SN_SNAPSHOT_FORMAT);
    memcpy(info->store_id, p + 16, SN_STORE_ID_LEN);
    info->store_id[SN_STORE_ID_LEN] = '\0';
    memcpy(&info->position, p + 48, 8);
    if (strcmp(info->store_id, store_id) != 0)
        return sn_fail(err, errlen, SN_EINVAL, "taken from another store (foreign)");
    if (info->position > cursor)
        return sn_fail(err, errlen, SN_EINVAL,
                       "its position %llu is ahead of the store's %llu (a store restored from "
                       "an older copy?)",
                       (unsigned long long)info->position, (unsigned long long)cursor);
    return SN_OK;
}

/* The padding of the trailer's end at..at + len: zeros to the next 8. */
static int padding_valid(const uint8_t *p, size_t at, size_t len)
{
    if (len != (8 - at % 8) % 8)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (p[at + i] != 0)
            return 0;
    return 1;
}

/* The records of p[HEADER_BYTES .. end) into a directory of its own. A
 * record (> 8 bytes) and the trailer take over TRAILER_BYTES + 7, the
 * trailer and its padding no more. */
static int read_records(const uint8_t *p, size_t end, sn_snapshot_info *info, sn_blocks **out,
                        char *err, size_t errlen)
{
    sn_blocks *b = sn_blocks_new();
    size_t at = HEADER_BYTES, used = 0;
    uint64_t trailer[3], blocks = 0;
    int rc = b == NULL ? SN_ENOMEM : SN_OK;
    while (rc == SN_OK && end - at > TRAILER_BYTES + 7) {
        if ((rc = sn_blocks_restore(b, p + at, end - at - TRAILER_BYTES, &used)) == SN_OK)
            at += used, blocks++;
    }
    if (rc == SN_OK && (end - at < TRAILER_BYTES ||
                        !padding_valid(p, at + TRAILER_BYTES, end - at - TRAILER_BYTES)))
        rc = SN_EINVAL;
    if (rc == SN_OK) {
        memcpy(trailer, p + at, sizeof(trailer));
        rc = sn_blocks_load_end(b);
    }
    if (rc == SN_OK &&
        (trailer[0] != END_MARK || trailer[1] != blocks || trailer[2] != sn_blocks_count(b)))
        rc = SN_EINVAL;
    if (rc != SN_OK) {
        sn_blocks_free(b);
        return rc == SN_ENOMEM ? sn_fail(err, errlen, rc, "out of memory loading the snapshot")
                               : sn_fail(err, errlen, rc, "its blocks do not read back");
    }
    info->blocks = blocks;
    info->numbers = trailer[2];
    *out = b;
    return SN_OK;
}

/* The checksum of a mapped file, computed beside the load. */
typedef struct {
    const uint8_t *p;
    size_t size;
    uint8_t sum[SUM_BYTES];
    int ok; /* the sum could be computed */
} checksum_job;

static void checksum(checksum_job *j)
{
    j->ok = EVP_Digest(j->p, j->size - SUM_BYTES, j->sum, NULL, EVP_sha256(), NULL) == 1;
}

static void *checksum_main(void *arg)
{
    sn_thread_name("sn-checksum"); /* its own thread only: the fallback keeps the caller's name */
    checksum(arg);
    return NULL;
}

/* The part of file fd from byte `from` to its end (size), mapped for the
 * digest tables to be served from: *map, and *off where `from` lies in it. */
static int map_tables(int fd, size_t from, size_t size, sn_mapping *map, size_t *off)
{
    long page = sysconf(_SC_PAGESIZE);
    size_t start = page > 0 ? from / (size_t)page * (size_t)page : 0;
    void *p = mmap(NULL, size - start, PROT_READ, MAP_PRIVATE, fd, (off_t)start);
    if (p == MAP_FAILED)
        return -1;
    *map = (sn_mapping){p, size - start};
    *off = from - start;
    return 0;
}

/* The checks on the mapped file p of size bytes (not its checksum), then
 * the states and tables (mapped again from fd, when ix has them) into ix. */
static int read_mapped(const uint8_t *p, size_t size, int fd, sn_numindex *ix, const char *store_id,
                       uint64_t cursor, sn_snapshot_info *info, char *err, size_t errlen)
{
    sn_blocks *b = NULL;
    uint64_t dlen;
    int rc;
    if ((rc = check_header(p, store_id, cursor, info, err, errlen)) != SN_OK)
        return rc;
    memcpy(&dlen, p + size - SUM_BYTES - LENGTH_BYTES, LENGTH_BYTES);
    if (dlen > size - MIN_BYTES)
        return sn_fail(err, errlen, SN_EINVAL, "its digest tables do not read back");
    size_t blocks_end = size - SUM_BYTES - LENGTH_BYTES - (size_t)dlen;
    if ((rc = read_records(p, blocks_end, info, &b, err, errlen)) != SN_OK)
        return rc;
    info->bytes = size;
    info->digest_bytes = dlen;
    sn_mapping map = {NULL, 0};
    size_t off = 0;
    if (dlen > 0 && sn_numindex_digests(ix) != NULL &&
        map_tables(fd, blocks_end, size, &map, &off) != 0) {
        int e = errno;
        sn_blocks_free(b);
        return sn_fail(err, errlen, SN_EIO, "cannot map its digest tables: %s", strerror(e));
    }
    if ((rc = sn_numindex_adopt_states(ix, b, map, off, (size_t)dlen)) != SN_OK)
        return rc == SN_EINVAL
                   ? sn_fail(err, errlen, rc, "its digest tables do not read back")
                   : sn_fail(err, errlen, rc, "out of memory loading the digest tables");
    return SN_OK;
}

/* The file p of size bytes into ix: read while its checksum is computed
 * (on this thread when no thread can start); a mismatch outranks every
 * other refusal and takes out what the reading put in. */
static int load_mapped(const uint8_t *p, size_t size, int fd, sn_numindex *ix, const char *store_id,
                       uint64_t cursor, sn_snapshot_info *info, char *err, size_t errlen)
{
    checksum_job job = {p, size, {0}, 0};
    pthread_t tid;
    if (size < MIN_BYTES)
        return sn_fail(err, errlen, SN_EINVAL, "too short (%zu bytes): torn or truncated", size);
    int apart = sn_thread_start(&tid, checksum_main, &job) == 0;
    if (!apart)
        checksum(&job);
    int rc = read_mapped(p, size, fd, ix, store_id, cursor, info, err, errlen);
    if (apart)
        pthread_join(tid, NULL);
    if (job.ok && memcmp(job.sum, p + size - SUM_BYTES, SUM_BYTES) == 0)
        return rc;
    if (rc == SN_OK)
        sn_numindex_forget(ix);
    if (!job.ok)
        return sn_fail(err, errlen, SN_ENOMEM, "cannot compute its checksum (out of memory)");
    return sn_fail(err, errlen, SN_EINVAL, "checksum mismatch: damaged or truncated");
}

int sn_snapshot_load(const char *path, sn_numindex *ix, const char *store_id, uint64_t cursor,
                     sn_snapshot_info *info, char *err, size_t errlen)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return sn_fail(err, errlen, SN_ENOTFOUND, "no snapshot at %s", path);
    if (fd < 0 || fstat(fd, &st) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return sn_fail(err, errlen, SN_EIO, "cannot read %s: %s", path, strerror(e));
    }
    memset(info, 0, sizeof(*info));
    size_t size = (size_t)st.st_size;
    if (size < MIN_BYTES) {
        close(fd);
        return sn_fail(err, errlen, SN_EINVAL, "too short (%zu bytes): torn or truncated", size);
    }
    void *p = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
        int e = errno;
        close(fd);
        return sn_fail(err, errlen, SN_EIO, "cannot map %s: %s", path, strerror(e));
    }
    (void)madvise(p, size, MADV_SEQUENTIAL); /* advice: read once, front to back */
    int rc = load_mapped(p, size, fd, ix, store_id, cursor, info, err, errlen);
    munmap(p, size); /* the tables' own mapping stays, with them */
    close(fd);
    return rc;
}
