/* Raw IPv4/IPv6 sockets, ICMP datagram sockets and AF_PACKET in the
 * container's own network namespace (raw(7), icmp(7), icmpv6(7), packet(7)).
 * Linux: SOCK_RAW and AF_PACKET need CAP_NET_RAW over the network
 * namespace (Docker's default set grants it); ICMP datagram sockets need a
 * group within net.ipv4.ping_group_range (Docker sets 0 2147483647). */
#include "net_util.h"
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <stddef.h>

#define CAP_NET_RAW_ 13

static void need_net_raw(void) {
    if (!has_cap(CAP_NET_RAW_))
        harness_skip("needs CAP_NET_RAW");
}

static unsigned short csum(const void *p, size_t n) {
    const unsigned short *w = p;
    unsigned long sum = 0;
    for (; n > 1; n -= 2)
        sum += *w++;
    if (n)
        sum += *(const unsigned char *)w;
    sum = (sum >> 16) + (sum & 0xffff);
    sum += sum >> 16;
    return (unsigned short)~sum;
}

static size_t echo_request(unsigned char *buf, unsigned short id, unsigned short seq) {
    struct icmphdr h = {.type = ICMP_ECHO};
    h.un.echo.id = htons(id);
    h.un.echo.sequence = htons(seq);
    memcpy(buf, &h, sizeof h);
    memcpy(buf + sizeof h, "runrs-ping", 10);
    size_t n = sizeof h + 10;
    unsigned short c = csum(buf, n);
    memcpy(buf + offsetof(struct icmphdr, checksum), &c, sizeof c);
    return n;
}

/* Waits for an ICMP echo reply with `id` on raw socket `s` (IP header first). */
static int raw_wait_reply(int s, unsigned short id) {
    for (int i = 0; i < 20; i++) {
        struct pollfd p = {s, POLLIN, 0};
        if (poll(&p, 1, 2000) != 1)
            return 0;
        unsigned char b[256];
        ssize_t n = recv(s, b, sizeof b, 0);
        if (n < (ssize_t)(sizeof(struct iphdr) + sizeof(struct icmphdr)))
            continue;
        struct iphdr ip;
        memcpy(&ip, b, sizeof ip);
        struct icmphdr h;
        memcpy(&h, b + ip.ihl * 4, sizeof h);
        if (h.type == ICMP_ECHOREPLY && ntohs(h.un.echo.id) == id)
            return 1;
    }
    return 0;
}

CASE(socket, raw_ipv4_without_cap_net_raw_eperm) {
    drop_effective_cap(CAP_NET_RAW_);
    EXPECT_ERRNO(socket(AF_INET, SOCK_RAW, IPPROTO_ICMP), EPERM);
    EXPECT_ERRNO(socket(AF_INET, SOCK_RAW, IPPROTO_RAW), EPERM);
    EXPECT_ERRNO(socket(AF_INET, SOCK_RAW, IPPROTO_UDP), EPERM);
}

CASE(socket, raw_ipv6_without_cap_net_raw_eperm) {
    drop_effective_cap(CAP_NET_RAW_);
    EXPECT_ERRNO(socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6), EPERM);
    EXPECT_ERRNO(socket(AF_INET6, SOCK_RAW, IPPROTO_RAW), EPERM);
}

CASE(socket, packet_without_cap_net_raw_eperm) {
    drop_effective_cap(CAP_NET_RAW_);
    EXPECT_ERRNO(socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL)), EPERM);
    EXPECT_ERRNO(socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP)), EPERM);
}

CASE(socket, raw_icmp_with_cap_net_raw) {
    need_net_raw();
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP));
    EXPECT_EQ(get_int_opt(s, SOL_SOCKET, SO_TYPE), SOCK_RAW);
    EXPECT_EQ(get_int_opt(s, SOL_SOCKET, SO_PROTOCOL), IPPROTO_ICMP);
    EXPECT_EQ(get_int_opt(s, IPPROTO_IP, IP_HDRINCL), 0);
}

CASE(socket, raw_ipproto_raw_implies_hdrincl) {
    need_net_raw();
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_RAW, IPPROTO_RAW));
    EXPECT_EQ(get_int_opt(s, IPPROTO_IP, IP_HDRINCL), 1);
}

CASE(setsockopt, ip_hdrincl_on_raw_icmp) {
    need_net_raw();
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_RAW, IPPROTO_ICMP));
    set_int_opt(s, IPPROTO_IP, IP_HDRINCL, 1);
    EXPECT_EQ(get_int_opt(s, IPPROTO_IP, IP_HDRINCL), 1);
}

CASE(setsockopt, icmp_filter_on_raw_icmp) {
    need_net_raw();
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_RAW, IPPROTO_ICMP));
    unsigned int f = ~(1u << ICMP_ECHOREPLY), got = 0;
    EXPECT_OK(setsockopt(s, SOL_RAW, 1 /* ICMP_FILTER */, &f, sizeof f));
    socklen_t len = sizeof got;
    EXPECT_OK(getsockopt(s, SOL_RAW, 1, &got, &len));
    EXPECT_EQ(got, f);
    int u = (int)EXPECT_OK(socket(AF_INET, SOCK_RAW, IPPROTO_UDP));
    EXPECT_ERRNO(setsockopt(u, SOL_RAW, 1, &f, sizeof f), EOPNOTSUPP);
}

COVERS("recvfrom")
CASE(sendto, raw_icmp_echo_on_loopback_gets_a_reply) {
    need_net_raw();
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_RAW, IPPROTO_ICMP));
    unsigned char b[64];
    unsigned short id = (unsigned short)getpid();
    size_t n = echo_request(b, id, 1);
    struct sockaddr_in to = lo4(0);
    EXPECT_EQ(sendto(s, b, n, 0, (struct sockaddr *)&to, sizeof to), (ssize_t)n);
    EXPECT_TRUE(raw_wait_reply(s, id));
}

CASE(sendto, raw_hdrincl_udp_datagram_reaches_a_udp_socket) {
    need_net_raw();
    int r = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    struct sockaddr_in ra = bind_lo4(r);
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_RAW, IPPROTO_RAW));
    unsigned char pkt[20 + 8 + 3];
    memset(pkt, 0, sizeof pkt);
    struct iphdr ip = {.ihl = 5, .version = 4, .ttl = 64, .protocol = IPPROTO_UDP};
    ip.tot_len = htons(sizeof pkt);
    ip.saddr = ip.daddr = htonl(INADDR_LOOPBACK);
    memcpy(pkt, &ip, sizeof ip);
    unsigned short sport = htons(4242), dport = ra.sin_port, ulen = htons(11);
    memcpy(pkt + 20, &sport, 2);
    memcpy(pkt + 22, &dport, 2);
    memcpy(pkt + 24, &ulen, 2); /* checksum 0: none */
    memcpy(pkt + 28, "raw", 3);
    EXPECT_EQ(sendto(s, pkt, sizeof pkt, 0, (struct sockaddr *)&ra, sizeof ra),
              (ssize_t)sizeof pkt);
    struct pollfd p = {r, POLLIN, 0};
    EXPECT_EQ(poll(&p, 1, 3000), 1);
    char b[8] = {0};
    struct sockaddr_in from;
    socklen_t flen = sizeof from;
    EXPECT_EQ(recvfrom(r, b, sizeof b, 0, (struct sockaddr *)&from, &flen), 3);
    EXPECT_STREQ(b, "raw");
    EXPECT_EQ(ntohs(from.sin_port), 4242);
}

CASE(socket, raw_icmpv6_with_cap_net_raw) {
    need_net_raw();
    int s = (int)EXPECT_OK(socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6));
    EXPECT_EQ(get_int_opt(s, SOL_SOCKET, SO_DOMAIN), AF_INET6);
    EXPECT_EQ(get_int_opt(s, SOL_SOCKET, SO_PROTOCOL), IPPROTO_ICMPV6);
    int v = 2;
    EXPECT_ERRNO(setsockopt(s, IPPROTO_IPV6, IPV6_CHECKSUM, &v, sizeof v), EINVAL);
}

CASE(sendto, raw_icmpv6_echo_on_loopback_gets_a_reply) {
    need_net_raw();
    int s = (int)EXPECT_OK(socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6));
    struct icmp6_filter f;
    ICMP6_FILTER_SETBLOCKALL(&f);
    ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &f);
    EXPECT_OK(setsockopt(s, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof f));
    struct icmp6_hdr h = {.icmp6_type = ICMP6_ECHO_REQUEST};
    unsigned short id = (unsigned short)getpid();
    h.icmp6_id = htons(id);
    h.icmp6_seq = htons(1);
    struct sockaddr_in6 to = lo6(0);
    EXPECT_EQ(sendto(s, &h, sizeof h, 0, (struct sockaddr *)&to, sizeof to), (ssize_t)sizeof h);
    int got = 0;
    for (int i = 0; i < 20 && !got; i++) {
        struct pollfd p = {s, POLLIN, 0};
        EXPECT_EQ(poll(&p, 1, 2000), 1);
        struct icmp6_hdr r;
        EXPECT_TRUE(recv(s, &r, sizeof r, 0) >= (ssize_t)sizeof r);
        got = r.icmp6_type == ICMP6_ECHO_REPLY && ntohs(r.icmp6_id) == id;
    }
    EXPECT_TRUE(got);
}

CASE(socket, raw_needs_a_protocol) {
    need_net_raw();
    EXPECT_ERRNO(socket(AF_INET, SOCK_RAW, 0), EPROTONOSUPPORT);
}

CASE(socket, packet_with_cap_net_raw_binds_to_lo) {
    need_net_raw();
    int s = (int)EXPECT_OK(socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP)));
    struct sockaddr_ll a = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP),
                            .sll_ifindex = (int)if_nametoindex("lo")};
    EXPECT_TRUE(a.sll_ifindex > 0);
    EXPECT_OK(bind(s, (struct sockaddr *)&a, sizeof a));
    struct sockaddr_ll got;
    socklen_t len = sizeof got;
    EXPECT_OK(getsockname(s, (struct sockaddr *)&got, &len));
    EXPECT_EQ(got.sll_family, AF_PACKET);
    EXPECT_EQ(got.sll_ifindex, a.sll_ifindex);
    EXPECT_EQ(get_int_opt(s, SOL_SOCKET, SO_DOMAIN), AF_PACKET);
}

CASE(socket, packet_sees_loopback_traffic) {
    need_net_raw();
    int s = (int)EXPECT_OK(socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP)));
    struct sockaddr_ll a = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP),
                            .sll_ifindex = (int)if_nametoindex("lo")};
    EXPECT_OK(bind(s, (struct sockaddr *)&a, sizeof a));
    int x, y;
    udp_pair(&x, &y);
    EXPECT_EQ(send(x, "sniffme", 7, 0), 7);
    int seen = 0;
    for (int i = 0; i < 20 && !seen; i++) {
        struct pollfd p = {s, POLLIN, 0};
        EXPECT_EQ(poll(&p, 1, 2000), 1);
        unsigned char b[2048];
        struct sockaddr_ll from;
        socklen_t flen = sizeof from;
        ssize_t n = recvfrom(s, b, sizeof b, 0, (struct sockaddr *)&from, &flen);
        EXPECT_TRUE(n > 0);
        EXPECT_EQ(from.sll_ifindex, a.sll_ifindex);
        seen = memmem(b, (size_t)n, "sniffme", 7) != NULL;
    }
    EXPECT_TRUE(seen);
}

CASE(socket, packet_type_errors) {
    need_net_raw();
    EXPECT_ERRNO(socket(AF_PACKET, SOCK_STREAM, htons(ETH_P_ALL)), ESOCKTNOSUPPORT);
}

CASE(getsockopt, packet_statistics) {
    need_net_raw();
    int s = (int)EXPECT_OK(socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL)));
    struct tpacket_stats st;
    socklen_t len = sizeof st;
    EXPECT_OK(getsockopt(s, SOL_PACKET, PACKET_STATISTICS, &st, &len));
    EXPECT_EQ(len, sizeof st);
}

static int in_ping_group_range(void) {
    char b[64];
    if (get_file("/proc/sys/net/ipv4/ping_group_range", b, sizeof b) < 0)
        FAIL("read ping_group_range: %s", harness_errname(errno));
    long lo, hi;
    if (sscanf(b, "%ld %ld", &lo, &hi) != 2)
        FAIL("ping_group_range: %s", b);
    gid_t g = getegid();
    return (long)g >= lo && (long)g <= hi;
}

CASE(socket, icmp_datagram_follows_ping_group_range) {
    int s = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
    if (in_ping_group_range()) {
        EXPECT_TRUE(s >= 0);
        EXPECT_EQ(get_int_opt(s, SOL_SOCKET, SO_PROTOCOL), IPPROTO_ICMP);
    } else {
        EXPECT_EQ(s, -1);
        EXPECT_EQ(errno, EACCES);
    }
}

CASE(sendto, icmp_datagram_echo_on_loopback) {
    if (!in_ping_group_range())
        harness_skip("egid outside net.ipv4.ping_group_range");
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP));
    unsigned char b[64];
    size_t n = echo_request(b, 0, 7);
    struct sockaddr_in to = lo4(0);
    EXPECT_EQ(sendto(s, b, n, 0, (struct sockaddr *)&to, sizeof to), (ssize_t)n);
    struct pollfd p = {s, POLLIN, 0};
    EXPECT_EQ(poll(&p, 1, 3000), 1);
    unsigned char r[128];
    EXPECT_TRUE(recv(s, r, sizeof r, 0) >= (ssize_t)sizeof(struct icmphdr));
    EXPECT_EQ(r[0], ICMP_ECHOREPLY); /* no IP header on a datagram socket */
}

CASE(socket, icmpv6_datagram_follows_ping_group_range) {
    int s = socket(AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6);
    if (in_ping_group_range()) {
        EXPECT_TRUE(s >= 0);
    } else {
        EXPECT_EQ(s, -1);
        EXPECT_EQ(errno, EACCES);
    }
}
