/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The nbdkit vddk command line for one disk.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "source/disk.h"
#include "source/vmware/vddk.h"

static bool thumbprint_valid(const char *t)
{
        /* 20 hex pairs separated by ':'. */
        if (strlen(t) != 59)
                return false;
        for (size_t i = 0; i < 59; i++)
                if (i % 3 == 2 ? t[i] != ':' : !isxdigit((unsigned char) t[i]))
                        return false;
        return true;
}

static bool empty(const char *s)
{
        return !s || !*s;
}

int vmware_vddk_argv(const struct vmware_vddk_params *p, char ***ret_argv, struct ferry_error *err)
{
        char **argv;
        size_t n = 0;
        char port[32];

        if (empty(p->libdir))
                return ferry_error_set(err, -EINVAL,
                                       "VDDK access needs the VDDK library directory: upload the VDDK as an "
                                       "artifact of type 'vddk'");
        if (empty(p->server))
                return ferry_error_set(err, -EINVAL, "VDDK access needs the server's host name");
        if (empty(p->user))
                return ferry_error_set(err, -EINVAL, "VDDK access needs a user name");
        if (empty(p->password_file))
                return ferry_error_set(err, -EINVAL, "VDDK access needs a password file");
        if (empty(p->thumbprint) || !thumbprint_valid(p->thumbprint))
                return ferry_error_set(err, -EINVAL, "Invalid SHA-1 thumbprint '%s'",
                                       p->thumbprint ? p->thumbprint : "");
        if (empty(p->vm_moref))
                return ferry_error_set(err, -EINVAL, "VDDK access needs the VM's managed object reference");
        if (empty(p->file) || p->file[0] != '[')
                return ferry_error_set(err, -EINVAL, "Invalid VMDK file '%s': expected '[datastore] path'",
                                       p->file ? p->file : "");
        if (empty(p->socket_path))
                return ferry_error_set(err, -EINVAL, "VDDK access needs a socket");
        if (p->port < 0 || p->port > 65535)
                return ferry_error_set(err, -EINVAL, "Invalid port %d", p->port);

        argv = calloc(20, sizeof(*argv));
        if (!argv)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        argv[n++] = strdup("nbdkit");
        argv[n++] = strdup("--exit-with-parent");
        argv[n++] = strdup("--readonly");
        argv[n++] = strdup("--unix");
        argv[n++] = strdup(p->socket_path);
        argv[n++] = strdup("vddk");
        argv[n++] = strjoin("libdir=", p->libdir, NULL);
        argv[n++] = strjoin("server=", p->server, NULL);
        if (p->port && p->port != 443) {
                snprintf(port, sizeof(port), "port=%d", p->port);
                argv[n++] = strdup(port);
        }
        argv[n++] = strjoin("user=", p->user, NULL);
        argv[n++] = strjoin("password=+", p->password_file, NULL);
        argv[n++] = strjoin("thumbprint=", p->thumbprint, NULL);
        argv[n++] = strjoin("vm=moref=", p->vm_moref, NULL);
        if (!empty(p->snapshot))
                argv[n++] = strjoin("snapshot=", p->snapshot, NULL);
        argv[n++] = strjoin("file=", p->file, NULL);
        for (size_t i = 0; i < n; i++)
                if (!argv[i]) {
                        source_argv_free(argv);
                        return ferry_error_set(err, -ENOMEM, "Out of memory");
                }
        *ret_argv = argv;
        return 0;
}

int vmware_endpoint_host_port(const char *endpoint, char **ret_host, int *ret_port, struct ferry_error *err)
{
        const char *h, *end, *colon = NULL;
        char *host;
        int port = 0;

        h = endpoint ? strstr(endpoint, "://") : NULL;
        if (!h)
                return ferry_error_set(err, -EINVAL, "Invalid endpoint '%s'", endpoint ? endpoint : "");
        h += 3;
        if (*h == '[') {
                end = strchr(h, ']');
                if (!end)
                        return ferry_error_set(err, -EINVAL, "Invalid endpoint '%s'", endpoint);
                host = strndup(h + 1, (size_t) (end - h - 1));
                end++;
                if (*end == ':')
                        colon = end;
        } else {
                end = h + strcspn(h, ":/?#");
                host = strndup(h, (size_t) (end - h));
                if (*end == ':')
                        colon = end;
        }
        if (!host)
                return ferry_error_set(err, -ENOMEM, "Out of memory");
        if (colon) {
                char *stop;
                long v = strtol(colon + 1, &stop, 10);

                if (stop == colon + 1 || v <= 0 || v > 65535 || (*stop && !strchr("/?#", *stop))) {
                        free(host);
                        return ferry_error_set(err, -EINVAL, "Invalid endpoint '%s'", endpoint);
                }
                port = (int) v;
        }
        if (!*host) {
                free(host);
                return ferry_error_set(err, -EINVAL, "Invalid endpoint '%s'", endpoint);
        }
        *ret_host = host;
        *ret_port = port;
        return 0;
}
