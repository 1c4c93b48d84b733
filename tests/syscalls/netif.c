/* Network introspection of the process's own network namespace: the
 * NETLINK_ROUTE dumps `ip` and getifaddrs() read, and the SIOCGIF*
 * interface queries of ifconfig and if_nameindex(). Only the loopback
 * interface is asserted on: every network namespace has it (runc and runrs
 * bring it up in a new one, as the host has it up). */
#include "harness.h"
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <linux/capability.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

static int route_socket(void) {
    int s = (int)EXPECT_OK(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
    struct sockaddr_nl a = {.nl_family = AF_NETLINK};
    EXPECT_OK(bind(s, (struct sockaddr *)&a, sizeof a));
    return s;
}

/* Sends a request of `type` with a `body_len`-byte body (zeroed but its
 * first byte, the family) and `flags`; calls `each` on every answer until
 * NLMSG_DONE or an NLMSG_ERROR (whose error, 0 or -errno, is returned). */
static int request(int type, int flags, unsigned char family, size_t body_len,
                   void (*each)(struct nlmsghdr *, void *), void *arg) {
    int s = route_socket();
    struct {
        struct nlmsghdr h;
        unsigned char body[64];
    } req;
    memset(&req, 0, sizeof req);
    req.h.nlmsg_len = NLMSG_LENGTH(body_len);
    req.h.nlmsg_type = (unsigned short)type;
    req.h.nlmsg_flags = (unsigned short)(NLM_F_REQUEST | flags);
    req.h.nlmsg_seq = 7;
    req.body[0] = family;
    EXPECT_EQ(send(s, &req, req.h.nlmsg_len, 0), (long)req.h.nlmsg_len);
    static char buf[1 << 16];
    for (;;) {
        long n = EXPECT_OK(recv(s, buf, sizeof buf, 0));
        EXPECT_TRUE(n > 0);
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned long)n);
             h = NLMSG_NEXT(h, n)) {
            EXPECT_EQ(h->nlmsg_seq, 7);
            if (h->nlmsg_type == NLMSG_DONE) {
                close(s);
                return 0;
            }
            if (h->nlmsg_type == NLMSG_ERROR) {
                int e = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
                close(s);
                return e;
            }
            if (each)
                each(h, arg);
        }
    }
}

static int dump(int type, unsigned char family, size_t body_len,
                void (*each)(struct nlmsghdr *, void *), void *arg) {
    return request(type, NLM_F_DUMP, family, body_len, each, arg);
}

static void find_lo_link(struct nlmsghdr *h, void *arg) {
    EXPECT_EQ(h->nlmsg_type, RTM_NEWLINK);
    struct ifinfomsg *ifi = NLMSG_DATA(h);
    int len = (int)IFLA_PAYLOAD(h);
    for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len))
        if (a->rta_type == IFLA_IFNAME && !strcmp(RTA_DATA(a), "lo")) {
            EXPECT_TRUE(ifi->ifi_flags & IFF_LOOPBACK);
            EXPECT_EQ(ifi->ifi_type, ARPHRD_LOOPBACK);
            *(int *)arg = ifi->ifi_index;
        }
}

COVERS("bind sendto recvfrom")
CASE(socket, netlink_route_link_dump_has_lo) {
    int index = 0;
    EXPECT_EQ(dump(RTM_GETLINK, AF_UNSPEC, sizeof(struct ifinfomsg), find_lo_link, &index), 0);
    EXPECT_TRUE(index > 0);
    EXPECT_EQ(index, (int)if_nametoindex("lo"));
}

static void find_loopback_addr(struct nlmsghdr *h, void *arg) {
    EXPECT_EQ(h->nlmsg_type, RTM_NEWADDR);
    struct ifaddrmsg *ifa = NLMSG_DATA(h);
    EXPECT_EQ(ifa->ifa_family, AF_INET);
    int len = (int)IFA_PAYLOAD(h);
    for (struct rtattr *a = IFA_RTA(ifa); RTA_OK(a, len); a = RTA_NEXT(a, len))
        if (a->rta_type == IFA_LOCAL &&
            *(uint32_t *)RTA_DATA(a) == htonl(INADDR_LOOPBACK) && ifa->ifa_prefixlen == 8)
            *(int *)arg = (int)ifa->ifa_index;
}

COVERS("bind sendto recvfrom")
CASE(socket, netlink_route_addr_dump_has_127_0_0_1) {
    int index = 0;
    EXPECT_EQ(dump(RTM_GETADDR, AF_INET, sizeof(struct ifaddrmsg), find_loopback_addr, &index), 0);
    EXPECT_EQ(index, (int)if_nametoindex("lo"));
}

static void find_local_route(struct nlmsghdr *h, void *arg) {
    EXPECT_EQ(h->nlmsg_type, RTM_NEWROUTE);
    struct rtmsg *rt = NLMSG_DATA(h);
    int len = (int)RTM_PAYLOAD(h);
    for (struct rtattr *a = RTM_RTA(rt); RTA_OK(a, len); a = RTA_NEXT(a, len))
        if (a->rta_type == RTA_DST && rt->rtm_type == RTN_LOCAL &&
            *(uint32_t *)RTA_DATA(a) == htonl(INADDR_LOOPBACK))
            *(int *)arg = 1;
}

COVERS("bind sendto recvfrom")
CASE(socket, netlink_route_route_and_neigh_dumps) {
    int found = 0;
    EXPECT_EQ(dump(RTM_GETROUTE, AF_INET, sizeof(struct rtmsg), find_local_route, &found), 0);
    EXPECT_TRUE(found);
    EXPECT_EQ(dump(RTM_GETNEIGH, AF_UNSPEC, sizeof(struct ndmsg), NULL, NULL), 0);
}

/* Changing an interface needs CAP_NET_ADMIN over the network namespace,
 * which the container's processes do not hold (setting lo up again would
 * change nothing anyway). */
COVERS("bind sendto recvfrom")
CASE(socket, netlink_route_change_needs_net_admin) {
    if (has_cap(CAP_NET_ADMIN))
        harness_skip("has CAP_NET_ADMIN");
    int s = route_socket();
    struct {
        struct nlmsghdr h;
        struct ifinfomsg ifi;
    } req;
    memset(&req, 0, sizeof req);
    req.h.nlmsg_len = sizeof req;
    req.h.nlmsg_type = RTM_NEWLINK;
    req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    req.h.nlmsg_seq = 9;
    req.ifi.ifi_family = AF_UNSPEC;
    req.ifi.ifi_index = (int)if_nametoindex("lo");
    req.ifi.ifi_flags = IFF_UP;
    req.ifi.ifi_change = IFF_UP;
    EXPECT_EQ(send(s, &req, sizeof req, 0), (long)sizeof req);
    char buf[512];
    long n = EXPECT_OK(recv(s, buf, sizeof buf, 0));
    struct nlmsghdr *h = (struct nlmsghdr *)buf;
    EXPECT_TRUE(NLMSG_OK(h, (unsigned long)n));
    EXPECT_EQ(h->nlmsg_type, NLMSG_ERROR);
    EXPECT_EQ(((struct nlmsgerr *)NLMSG_DATA(h))->error, -EPERM);
}

COVERS("bind sendto recvfrom")
CASE(socket, getifaddrs_and_if_nameindex_list_lo) {
    struct ifaddrs *all;
    EXPECT_OK(getifaddrs(&all));
    int inet = 0;
    for (struct ifaddrs *i = all; i; i = i->ifa_next)
        if (!strcmp(i->ifa_name, "lo") && i->ifa_addr && i->ifa_addr->sa_family == AF_INET) {
            EXPECT_EQ(((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr, htonl(INADDR_LOOPBACK));
            EXPECT_TRUE(i->ifa_flags & IFF_LOOPBACK);
            inet = 1;
        }
    freeifaddrs(all);
    EXPECT_TRUE(inet);
    struct if_nameindex *names = if_nameindex();
    EXPECT_TRUE(names != NULL);
    int lo = 0;
    for (struct if_nameindex *n = names; n && n->if_index; n++)
        if (!strcmp(n->if_name, "lo"))
            lo = (int)n->if_index;
    if_freenameindex(names);
    EXPECT_EQ(lo, (int)if_nametoindex("lo"));
}

static void ifreq_lo(struct ifreq *r) {
    memset(r, 0, sizeof *r);
    snprintf(r->ifr_name, sizeof r->ifr_name, "lo");
}

static uint32_t in_addr_of(struct sockaddr *sa) {
    EXPECT_EQ(sa->sa_family, AF_INET);
    return ((struct sockaddr_in *)sa)->sin_addr.s_addr;
}

CASE(ioctl, siocgifconf_lists_lo) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    struct ifreq reqs[64];
    struct ifconf conf = {.ifc_len = sizeof reqs, .ifc_req = reqs};
    EXPECT_OK(ioctl(s, SIOCGIFCONF, &conf));
    EXPECT_TRUE(conf.ifc_len > 0 && conf.ifc_len % (int)sizeof(struct ifreq) == 0);
    int lo = 0;
    for (int i = 0; i < conf.ifc_len / (int)sizeof(struct ifreq); i++)
        if (!strcmp(reqs[i].ifr_name, "lo")) {
            EXPECT_EQ(in_addr_of(&reqs[i].ifr_addr), htonl(INADDR_LOOPBACK));
            lo = 1;
        }
    EXPECT_TRUE(lo);
    /* A NULL buffer asks for the length. */
    struct ifconf size = {.ifc_len = 0, .ifc_req = NULL};
    EXPECT_OK(ioctl(s, SIOCGIFCONF, &size));
    EXPECT_EQ(size.ifc_len, conf.ifc_len);
}

CASE(ioctl, siocgif_queries_of_lo) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    struct ifreq r;
    ifreq_lo(&r);
    EXPECT_OK(ioctl(s, SIOCGIFFLAGS, &r));
    EXPECT_TRUE(r.ifr_flags & IFF_LOOPBACK);
    EXPECT_TRUE(r.ifr_flags & IFF_UP);
    ifreq_lo(&r);
    EXPECT_OK(ioctl(s, SIOCGIFADDR, &r));
    EXPECT_EQ(in_addr_of(&r.ifr_addr), htonl(INADDR_LOOPBACK));
    ifreq_lo(&r);
    EXPECT_OK(ioctl(s, SIOCGIFNETMASK, &r));
    EXPECT_EQ(in_addr_of(&r.ifr_netmask), htonl(0xff000000));
    ifreq_lo(&r);
    EXPECT_OK(ioctl(s, SIOCGIFINDEX, &r));
    int index = r.ifr_ifindex;
    EXPECT_EQ(index, (int)if_nametoindex("lo"));
    memset(&r, 0, sizeof r);
    r.ifr_ifindex = index;
    EXPECT_OK(ioctl(s, SIOCGIFNAME, &r));
    EXPECT_STREQ(r.ifr_name, "lo");
    ifreq_lo(&r);
    EXPECT_OK(ioctl(s, SIOCGIFHWADDR, &r));
    EXPECT_EQ(r.ifr_hwaddr.sa_family, ARPHRD_LOOPBACK);
    ifreq_lo(&r);
    EXPECT_OK(ioctl(s, SIOCGIFMTU, &r));
    EXPECT_TRUE(r.ifr_mtu > 0);
    ifreq_lo(&r);
    EXPECT_OK(ioctl(s, SIOCGIFMETRIC, &r));
    ifreq_lo(&r);
    EXPECT_OK(ioctl(s, SIOCGIFTXQLEN, &r));
    ifreq_lo(&r);
    EXPECT_OK(ioctl(s, SIOCGIFMAP, &r));
    ifreq_lo(&r);
    EXPECT_OK(ioctl(s, SIOCGIFBRDADDR, &r));
    ifreq_lo(&r);
    EXPECT_OK(ioctl(s, SIOCGIFDSTADDR, &r));
    /* No such interface: ENODEV, on an AF_UNIX socket too. */
    memset(&r, 0, sizeof r);
    snprintf(r.ifr_name, sizeof r.ifr_name, "nosuchif0");
    EXPECT_ERRNO(ioctl(s, SIOCGIFINDEX, &r), ENODEV);
    int u = (int)EXPECT_OK(socket(AF_UNIX, SOCK_DGRAM, 0));
    EXPECT_ERRNO(ioctl(u, SIOCGIFFLAGS, &r), ENODEV);
}

/* On a file that is no socket the queries are no ioctl of its. */
CASE(ioctl, siocgif_on_a_file_enotty) {
    put_file("f", "x");
    int f = (int)EXPECT_OK(open("f", O_RDONLY));
    struct ifreq r;
    ifreq_lo(&r);
    EXPECT_ERRNO(ioctl(f, SIOCGIFFLAGS, &r), ENOTTY);
}
