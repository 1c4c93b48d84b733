/* Helpers shared by the namespace, mount and probe cases (ns.c, mount.c,
 * probe.c). */
#ifndef CONFORMANCE_NSHELP_H
#define CONFORMANCE_NSHELP_H
#include "harness.h"
#include <linux/capability.h>

/* Cases named `family.admin_*` need CAP_SYS_ADMIN: without it they skip,
 * and the runner (src/conformance.rs) runs them again in a container
 * whose spec grants it. */
static inline void need_admin(void) {
    if (!has_cap(CAP_SYS_ADMIN))
        harness_skip("needs CAP_SYS_ADMIN");
}

/* Whether this host lets an unprivileged process make a user namespace. */
static inline int userns_allowed(void) {
    char buf[32];
    if (get_file("/proc/sys/user/max_user_namespaces", buf, sizeof buf) > 0 && atoi(buf) == 0)
        return 0;
    return 1;
}
#endif
