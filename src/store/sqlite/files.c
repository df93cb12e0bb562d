/*
 * files.c - whole-file work for backups and restores of a SQLite store:
 * a private temporary file beside its target, fsync of a file and of its
 * folder, installing a temporary over its target (fsync, rename, fsync the
 * folder), and copying a file with that method (sn_store_copy_file).
 *
 * Invariants: every file made here is mode SN_STORE_FILE_MODE (0600)
 * whatever the umask; a target is only ever replaced by rename(2) of a
 * complete, fsynced file in the same folder, so a reader (or a crash) sees
 * the old file or the new one, never a part of one.
 */
#include "store/sqlite/sqlite.h"

#include "core/errors.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define COPY_CHUNK 65536 /* bytes read and written at a time */

int sq_temp_beside(const char *target, const char *tag, char *path, size_t len, char *err,
                   size_t errlen)
{
    int n = snprintf(path, len, "%s.%s-XXXXXX", target, tag);
    if (n < 0 || (size_t)n >= len)
        return sn_fail(err, errlen, SN_EINVAL, "path too long: %s", target);
    int fd = mkstemp(path);
    if (fd < 0)
        return sn_fail(err, errlen, SN_EIO, "cannot create a file beside %s: %s", target,
                       strerror(errno));
    int rc =
        fchmod(fd, SN_STORE_FILE_MODE) == 0
            ? SN_OK
            : sn_fail(err, errlen, SN_EIO, "cannot set the mode of %s: %s", path, strerror(errno));
    close(fd);
    if (rc != SN_OK)
        unlink(path);
    return rc;
}

int sq_sync_file(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return sn_fail(err, errlen, SN_EIO, "cannot open %s: %s", path, strerror(errno));
    int rc = fsync(fd) == 0
                 ? SN_OK
                 : sn_fail(err, errlen, SN_EIO, "cannot sync %s: %s", path, strerror(errno));
    close(fd);
    return rc;
}

/* fsync the folder that holds path, so that a rename into it is durable. */
static int sync_folder_of(const char *path, char *err, size_t errlen)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == path)
        snprintf(dir, sizeof(dir), "/");
    else
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return sn_fail(err, errlen, SN_EIO, "cannot open the folder %s: %s", dir, strerror(errno));
    int rc = fsync(fd) == 0 ? SN_OK
                            : sn_fail(err, errlen, SN_EIO, "cannot sync the folder %s: %s", dir,
                                      strerror(errno));
    close(fd);
    return rc;
}

int sq_install(const char *tmp, const char *target, char *err, size_t errlen)
{
    int rc = sq_sync_file(tmp, err, errlen);
    if (rc != SN_OK)
        return rc;
    if (rename(tmp, target) != 0)
        return sn_fail(err, errlen, SN_EIO, "cannot rename %s to %s: %s", tmp, target,
                       strerror(errno));
    return sync_folder_of(target, err, errlen);
}

int sq_target_free(const char *target, int force, char *err, size_t errlen)
{
    struct stat st;
    if (lstat(target, &st) != 0)
        return errno == ENOENT
                   ? SN_OK
                   : sn_fail(err, errlen, SN_EIO, "cannot read %s: %s", target, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return sn_fail(err, errlen, SN_EINVAL, "%s is a folder", target);
    if (!force)
        return sn_fail(err, errlen, SN_EINVAL, "%s exists: not replaced (--force replaces it)",
                       target);
    return SN_OK;
}

void sq_remove_sidecars(const char *path)
{
    static const char *const tails[] = {"-wal", "-shm", "-journal"};
    char side[4200];
    for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
        snprintf(side, sizeof(side), "%s%s", path, tails[i]);
        unlink(side);
    }
}

/* Copy every byte of the open file in to the open file out. */
static int copy_fd(int in, int out, const char *src, char *err, size_t errlen)
{
    char buf[COPY_CHUNK];
    for (;;) {
        ssize_t n = read(in, buf, sizeof(buf));
        if (n == 0)
            return SN_OK;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return sn_fail(err, errlen, SN_EIO, "cannot read %s: %s", src, strerror(errno));
        for (ssize_t done = 0; done < n;) {
            ssize_t w = write(out, buf + done, (size_t)(n - done));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0)
                return sn_fail(err, errlen, SN_EIO, "cannot write: %s", strerror(errno));
            done += w;
        }
    }
}

int sq_copy_into(const char *src, const char *tmp, char *err, size_t errlen)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return sn_fail(err, errlen, SN_EIO, "cannot open %s: %s", src, strerror(errno));
    int out = open(tmp, O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (out < 0) {
        close(in);
        return sn_fail(err, errlen, SN_EIO, "cannot open %s: %s", tmp, strerror(errno));
    }
    int rc = copy_fd(in, out, src, err, errlen);
    if (rc == SN_OK && fsync(out) != 0)
        rc = sn_fail(err, errlen, SN_EIO, "cannot sync %s: %s", tmp, strerror(errno));
    close(in);
    close(out);
    return rc;
}

int sn_store_copy_file(const char *src, const char *dst, int force, char *err, size_t errlen)
{
    char tmp[4200];
    struct stat st;
    int rc;
    if (stat(src, &st) != 0)
        return sn_fail(err, errlen, SN_ENOTFOUND, "cannot read %s: %s", src, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return sn_fail(err, errlen, SN_EINVAL, "%s is not a regular file", src);
    if ((rc = sq_target_free(dst, force, err, errlen)) != SN_OK ||
        (rc = sq_temp_beside(dst, "tmp", tmp, sizeof(tmp), err, errlen)) != SN_OK)
        return rc;
    if ((rc = sq_copy_into(src, tmp, err, errlen)) == SN_OK)
        rc = sq_install(tmp, dst, err, errlen);
    if (rc != SN_OK)
        unlink(tmp);
    return rc;
}
