/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Image locking with open file description (OFD) locks, in the byte layout
 * QEMU's file driver uses, so that Mimic, qemu-system and qemu-img see each
 * other's locks:
 *
 *   byte 100 + i   shared lock held while this user HAS permission i;
 *   byte 200 + i   shared lock held while this user does NOT SHARE i
 *                  (refuses it to everybody else).
 *
 * Permission bits: 0 consistent read, 1 write, 2 write-unchanged, 3 resize.
 * A user who wants permission i must find no other lock on byte 200 + i;
 * a user who refuses i must find no other lock on byte 100 + i. Locks are
 * per open file description, so two opens of one image in this process
 * conflict just as two processes do (-hda X -hdb X is refused).
 */
#include "images/block_int.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#define LOCK_PERM_BASE 100
#define LOCK_SHARED_BASE 200
#define LOCK_NPERMS 4

static const char *const perm_names[LOCK_NPERMS] = {
    "consistent read", "write", "write unchanged", "resize",
};

static int lock_byte(int fd, int byte, short type)
{
    struct flock fl = {
        .l_whence = SEEK_SET, .l_start = byte, .l_len = 1, .l_type = type,
    };
    return fcntl(fd, F_OFD_SETLK, &fl);
}

/* true when another open file description holds a lock on the byte. */
static bool byte_taken(int fd, int byte, int *err)
{
    struct flock fl = {
        .l_whence = SEEK_SET, .l_start = byte, .l_len = 1, .l_type = F_WRLCK,
    };
    if (fcntl(fd, F_OFD_GETLK, &fl) < 0) {
        *err = errno;
        return false;
    }
    return fl.l_type != F_UNLCK;
}

static bool unsupported(int e)
{
    return e == EINVAL || e == ENOTSUP || e == EOPNOTSUPP || e == ENOLCK ||
           e == ENOSYS;
}

bool blk_file_lock(BlockDev *bs, unsigned perm, unsigned shared,
                   GError **error)
{
    int fd = bs->fd;
    int err = 0;
    /* Take ours first, then look for conflicts: two users starting at
     * the same moment both see the other and both fail, never both win. */
    for (int i = 0; i < LOCK_NPERMS && !err; i++) {
        if ((perm & (1u << i)) &&
            lock_byte(fd, LOCK_PERM_BASE + i, F_RDLCK) < 0) {
            err = errno;
        }
        if (!(shared & (1u << i)) &&
            lock_byte(fd, LOCK_SHARED_BASE + i, F_RDLCK) < 0) {
            err = errno;
        }
    }
    for (int i = 0; i < LOCK_NPERMS && !err; i++) {
        const char *what = NULL;
        if ((perm & (1u << i)) &&
            byte_taken(fd, LOCK_SHARED_BASE + i, &err)) {
            what = "";
        } else if (!err && !(shared & (1u << i)) &&
                   byte_taken(fd, LOCK_PERM_BASE + i, &err)) {
            what = "shared ";
        }
        if (what) {
            /* QEMU's wording, so that users and scripts recognise it. */
            g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_LOCKED,
                        "%s: Failed to get %s\"%s\" lock\n"
                        "Is another process using the image [%s]?",
                        bs->filename, what, perm_names[i], bs->filename);
            blk_file_unlock(bs);
            return false;
        }
    }
    if (err) {
        blk_file_unlock(bs);
        if (unsupported(err)) {
            /* locking=auto: a filesystem without OFD locks (some network
             * filesystems) runs unlocked, as QEMU does. */
            return true;
        }
        g_set_error(error, BLOCK_ERROR, BLOCK_ERROR_IO,
                    "%s: cannot lock the image: %s", bs->filename,
                    g_strerror(err));
        return false;
    }
    bs->locked = true;
    return true;
}

void blk_file_unlock(BlockDev *bs)
{
    struct flock fl = {
        .l_whence = SEEK_SET, .l_start = LOCK_PERM_BASE,
        .l_len = LOCK_SHARED_BASE + LOCK_NPERMS - LOCK_PERM_BASE,
        .l_type = F_UNLCK,
    };
    (void)fcntl(bs->fd, F_OFD_SETLK, &fl);
    bs->locked = false;
}
