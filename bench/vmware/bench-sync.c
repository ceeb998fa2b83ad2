/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Source sync at scale: a generated model of N VMs (default 5000) in the
 * lab's vSphere simulator, ferryd started on a fresh data directory, and
 * `ferry source add --wait` (the first sync: every VM added), then
 * `ferry source sync` (nothing changed).  Prints the wall time of each and
 * ferryd's peak RSS (VmHWM) after each.
 *
 *     bench-sync FERRYD FERRY VCSIM [N]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "../../tests/integration/vcsim-model.h"

static char dir[] = "/tmp/ferry-bench-sync.XXXXXX";

static double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

static pid_t spawn(char *const argv[], const char *out)
{
        pid_t pid = fork();

        if (pid == 0) {
                int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);

                if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
                        _exit(127);
                execv(argv[0], argv);
                _exit(127);
        }
        return pid;
}

static int run(char *const argv[])
{
        char out[256];
        int status;
        pid_t pid;

        snprintf(out, sizeof(out), "%s/%s.out", dir, strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0]);
        pid = spawn(argv, out);
        if (pid < 0 || waitpid(pid, &status, 0) < 0)
                return -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static bool wait_file(const char *path, int seconds)
{
        struct stat st;

        for (int i = 0; i < seconds * 20; i++) {
                if (stat(path, &st) == 0 && st.st_size > 0)
                        return true;
                usleep(50000);
        }
        return false;
}

/* The value of KEY='value' in an env file (static buffer). */
static const char *env_value(const char *path, const char *key)
{
        static char value[4096];
        char line[4096];
        size_t klen = strlen(key);
        FILE *f = fopen(path, "r");

        value[0] = '\0';
        while (f && fgets(line, sizeof(line), f))
                if (!strncmp(line, key, klen) && line[klen] == '=') {
                        char *v = line + klen + 1, *e = v + strlen(v);

                        while (e > v && (e[-1] == '\n' || e[-1] == '\''))
                                *--e = '\0';
                        if (*v == '\'')
                                v++;
                        snprintf(value, sizeof(value), "%s", v);
                }
        if (f)
                fclose(f);
        return value;
}

static long vm_hwm_kib(pid_t pid)
{
        char path[64], line[256];
        long kib = -1;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%d/status", (int) pid);
        f = fopen(path, "r");
        while (f && fgets(line, sizeof(line), f))
                if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
                        break;
        if (f)
                fclose(f);
        return kib;
}

int main(int argc, char *argv[])
{
        char model[256], env[256], ds[256], data[256], sock[256], url[4096], fp[128], user[128], pass[128];
        char sim_out[256], ferryd_out[256];
        unsigned n = argc > 4 ? (unsigned) strtoul(argv[4], NULL, 10) : 5000;
        pid_t vcsim, ferryd;
        json_t *m;
        double t0, t_sim, t_add, t_sync;
        long hwm_add, hwm_sync;
        int rc = 1;

        if (argc < 4) {
                fprintf(stderr, "Usage: bench-sync FERRYD FERRY VCSIM [N]\n");
                return 2;
        }
        if (!mkdtemp(dir))
                return 1;
        snprintf(model, sizeof(model), "%s/model.json", dir);
        snprintf(env, sizeof(env), "%s/vcsim.env", dir);
        snprintf(ds, sizeof(ds), "%s/ds", dir);
        snprintf(data, sizeof(data), "%s/data", dir);
        snprintf(sock, sizeof(sock), "%s/data/unix.socket", dir);
        snprintf(sim_out, sizeof(sim_out), "%s/vcsim.out", dir);
        snprintf(ferryd_out, sizeof(ferryd_out), "%s/ferryd.out", dir);
        m = vcsim_model_generate(n);
        if (!m || json_dump_file(m, model, 0) < 0)
                return 1;
        json_decref(m);

        t0 = now_s();
        char *sim_argv[] = { argv[3], "-listen", "127.0.0.1:0", "-model", model, "-datastore-dir", ds, "-env", env,
                             NULL };
        vcsim = spawn(sim_argv, sim_out);
        if (!wait_file(env, 600)) {
                fprintf(stderr, "The simulator did not start; see %s/vcsim.out\n", dir);
                goto out;
        }
        t_sim = now_s() - t0;
        snprintf(url, sizeof(url), "%s", env_value(env, "VCSIM_URL"));
        snprintf(fp, sizeof(fp), "%s", env_value(env, "VCSIM_FINGERPRINT"));
        snprintf(user, sizeof(user), "%s", env_value(env, "VCSIM_USERNAME"));
        snprintf(pass, sizeof(pass), "%s", env_value(env, "VCSIM_PASSWORD"));

        char *d_argv[] = { argv[1], "--data-dir", data, NULL };
        ferryd = spawn(d_argv, ferryd_out);
        for (int i = 0; access(sock, F_OK) < 0; i++) {
                if (i > 600) {
                        fprintf(stderr, "ferryd did not start; see %s\n", ferryd_out);
                        goto out_ferryd;
                }
                usleep(50000);
        }

        char *add_argv[] = { argv[2], "--socket", sock, "source", "add", "gen", url, "--username", user,
                             "--password", pass, "--fingerprint", fp, "--wait", NULL };
        t0 = now_s();
        if (run(add_argv) != 0) {
                fprintf(stderr, "ferry source add failed; see %s/ferry.out\n", dir);
                goto out_ferryd;
        }
        t_add = now_s() - t0;
        hwm_add = vm_hwm_kib(ferryd);

        char *sync_argv[] = { argv[2], "--socket", sock, "source", "sync", "gen", NULL };
        t0 = now_s();
        if (run(sync_argv) != 0) {
                fprintf(stderr, "ferry source sync failed; see %s/ferry.out\n", dir);
                goto out_ferryd;
        }
        t_sync = now_s() - t0;
        hwm_sync = vm_hwm_kib(ferryd);

        printf("vmware sync of %u VMs (simulator up in %.1fs): first sync (all added) %.2fs, ferryd peak RSS %.1f MiB; "
               "second sync (nothing changed) %.2fs, ferryd peak RSS %.1f MiB\n",
               n, t_sim, t_add, hwm_add / 1024.0, t_sync, hwm_sync / 1024.0);
        rc = 0;

out_ferryd:
        kill(ferryd, SIGTERM);
        waitpid(ferryd, NULL, 0);
out:
        kill(vcsim, SIGTERM);
        waitpid(vcsim, NULL, 0);
        if (rc == 0) {
                char *rm[] = { "/bin/rm", "-rf", dir, NULL };

                run(rm);
        }
        return rc;
}
