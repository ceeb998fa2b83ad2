/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The nbdkit vddk plugin's command line for one VMware disk (DESIGN §5,
 * disk_access vddk).  Pure: nothing is started here.
 *
 *     nbdkit --exit-with-parent --readonly --unix SOCK vddk
 *            libdir=DIR server=HOST [port=N] user=USER password=+FILE
 *            thumbprint=AA:BB:... vm=moref=vm-42 [snapshot=snapshot-7]
 *            file=[ds1] web/web.vmdk
 *
 * The password travels in a 0600 file (password=+FILE), never in argv.
 */
#ifndef FERRY_SOURCE_VMWARE_VDDK_H
#define FERRY_SOURCE_VMWARE_VDDK_H

#include "common/error.h"

struct vmware_vddk_params {
        const char *libdir;             /* the VDDK distribution (holds lib64/) */
        const char *server;             /* vCenter or ESXi host name or address, no scheme or port */
        int port;                       /* 0 or 443: the default */
        const char *user;
        const char *password_file;      /* a file holding the password, mode 0600 */
        const char *thumbprint;         /* SHA-1 of the server's certificate, "AA:BB:..." (20 pairs) */
        const char *vm_moref;           /* "vm-42" */
        const char *snapshot;           /* "snapshot-7", or NULL/"": the current disk */
        const char *file;               /* "[ds1] web/web.vmdk" (as in the snapshot when one is given) */
        const char *socket_path;        /* the unix socket to serve on */
};

/*
 * The argument vector (NULL-terminated, free with source_argv_free()).
 * -EINVAL names the missing or malformed parameter: "VDDK access needs
 * the VDDK library directory: upload the VDDK as an artifact of type
 * 'vddk'", "Invalid SHA-1 thumbprint 'x'", ...
 */
int vmware_vddk_argv(const struct vmware_vddk_params *p, char ***ret_argv, struct ferry_error *err);

/*
 * Host and port of a source endpoint ("https://vc.example.org/sdk",
 * "https://[::1]:8443") for nbdkit's server= and port=; *ret_port is 0
 * when the URL has none.  -EINVAL "Invalid endpoint 'x'".
 */
int vmware_endpoint_host_port(const char *endpoint, char **ret_host, int *ret_port, struct ferry_error *err);

#endif
