/* TCP, UDP, IPv4 and IPv6 socket options and the send/receive families on
 * loopback sockets of the container's own network namespace, as
 * socket(7), tcp(7), udp(7), ip(7) and ipv6(7) describe them. */
#include "net_util.h"
#include <linux/errqueue.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/time.h>
#include <sys/uio.h>

#define CAP_NET_ADMIN_ 12
#define CAP_NET_RAW_ 13

/* ---- IPPROTO_TCP ---- */

CASE(setsockopt, tcp_nodelay_roundtrip) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_STREAM, 0));
    EXPECT_EQ(get_int_opt(s, IPPROTO_TCP, TCP_NODELAY), 0);
    set_int_opt(s, IPPROTO_TCP, TCP_NODELAY, 5);
    EXPECT_EQ(get_int_opt(s, IPPROTO_TCP, TCP_NODELAY), 1);
    set_int_opt(s, IPPROTO_TCP, TCP_NODELAY, 0);
    EXPECT_EQ(get_int_opt(s, IPPROTO_TCP, TCP_NODELAY), 0);
}

CASE(setsockopt, tcp_keepalive_timers_roundtrip) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_STREAM, 0));
    set_int_opt(s, IPPROTO_TCP, TCP_KEEPIDLE, 30);
    set_int_opt(s, IPPROTO_TCP, TCP_KEEPINTVL, 7);
    set_int_opt(s, IPPROTO_TCP, TCP_KEEPCNT, 4);
    EXPECT_EQ(get_int_opt(s, IPPROTO_TCP, TCP_KEEPIDLE), 30);
    EXPECT_EQ(get_int_opt(s, IPPROTO_TCP, TCP_KEEPINTVL), 7);
    EXPECT_EQ(get_int_opt(s, IPPROTO_TCP, TCP_KEEPCNT), 4);
}

CASE(setsockopt, tcp_keepidle_range_einval) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_STREAM, 0));
    int v = 0;
    EXPECT_ERRNO(setsockopt(s, IPPROTO_TCP, TCP_KEEPIDLE, &v, sizeof v), EINVAL);
    v = 32768;
    EXPECT_ERRNO(setsockopt(s, IPPROTO_TCP, TCP_KEEPIDLE, &v, sizeof v), EINVAL);
}

CASE(setsockopt, tcp_keepintvl_range_einval) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_STREAM, 0));
    int v = 0;
    EXPECT_ERRNO(setsockopt(s, IPPROTO_TCP, TCP_KEEPINTVL, &v, sizeof v), EINVAL);
    v = 32768;
    EXPECT_ERRNO(setsockopt(s, IPPROTO_TCP, TCP_KEEPINTVL, &v, sizeof v), EINVAL);
}

CASE(setsockopt, tcp_keepcnt_range_einval) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_STREAM, 0));
    int v = 0;
    EXPECT_ERRNO(setsockopt(s, IPPROTO_TCP, TCP_KEEPCNT, &v, sizeof v), EINVAL);
    v = 128;
    EXPECT_ERRNO(setsockopt(s, IPPROTO_TCP, TCP_KEEPCNT, &v, sizeof v), EINVAL);
}

CASE(setsockopt, tcp_syncnt_range) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_STREAM, 0));
    set_int_opt(s, IPPROTO_TCP, TCP_SYNCNT, 3);
    EXPECT_EQ(get_int_opt(s, IPPROTO_TCP, TCP_SYNCNT), 3);
    int v = 0;
    EXPECT_ERRNO(setsockopt(s, IPPROTO_TCP, TCP_SYNCNT, &v, sizeof v), EINVAL);
    v = 128;
    EXPECT_ERRNO(setsockopt(s, IPPROTO_TCP, TCP_SYNCNT, &v, sizeof v), EINVAL);
}

CASE(setsockopt, tcp_user_timeout_roundtrip) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_STREAM, 0));
    EXPECT_EQ(get_int_opt(s, IPPROTO_TCP, TCP_USER_TIMEOUT), 0);
    set_int_opt(s, IPPROTO_TCP, TCP_USER_TIMEOUT, 12345);
    EXPECT_EQ(get_int_opt(s, IPPROTO_TCP, TCP_USER_TIMEOUT), 12345);
    int v = -1;
    EXPECT_ERRNO(setsockopt(s, IPPROTO_TCP, TCP_USER_TIMEOUT, &v, sizeof v), EINVAL);
}

CASE(setsockopt, tcp_maxseg_before_connect) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_STREAM, 0));
    set_int_opt(s, IPPROTO_TCP, TCP_MAXSEG, 1000);
    EXPECT_EQ(get_int_opt(s, IPPROTO_TCP, TCP_MAXSEG), 1000);
    int v = 1;
    EXPECT_ERRNO(setsockopt(s, IPPROTO_TCP, TCP_MAXSEG, &v, sizeof v), EINVAL);
}

CASE(getsockopt, tcp_maxseg_connected_positive) {
    int c, s;
    tcp_pair(&c, &s);
    int m = get_int_opt(c, IPPROTO_TCP, TCP_MAXSEG);
    EXPECT_TRUE(m > 0 && m <= 65535);
}

CASE(setsockopt, tcp_congestion_reno_roundtrip) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_STREAM, 0));
    EXPECT_OK(setsockopt(s, IPPROTO_TCP, TCP_CONGESTION, "reno", 4));
    char name[16] = {0};
    socklen_t len = sizeof name;
    EXPECT_OK(getsockopt(s, IPPROTO_TCP, TCP_CONGESTION, name, &len));
    EXPECT_STREQ(name, "reno");
    EXPECT_EQ(len, sizeof name);
}

CASE(setsockopt, tcp_congestion_unknown_enoent) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_STREAM, 0));
    EXPECT_ERRNO(setsockopt(s, IPPROTO_TCP, TCP_CONGESTION, "no-such-cc", 10), ENOENT);
}

CASE(getsockopt, tcp_congestion_default_is_named) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_STREAM, 0));
    char name[16] = {0};
    socklen_t len = sizeof name;
    EXPECT_OK(getsockopt(s, IPPROTO_TCP, TCP_CONGESTION, name, &len));
    EXPECT_TRUE(strlen(name) > 0);
    char small[2] = {'x', 'x'};
    len = 2;
    EXPECT_OK(getsockopt(s, IPPROTO_TCP, TCP_CONGESTION, small, &len));
    EXPECT_EQ(len, 2);
    EXPECT_EQ(small[0], name[0]);
}

CASE(getsockopt, tcp_info_established) {
    int c, s;
    tcp_pair(&c, &s);
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    EXPECT_OK(getsockopt(c, IPPROTO_TCP, TCP_INFO, &ti, &len));
    EXPECT_EQ(ti.tcpi_state, TCP_ESTABLISHED);
    EXPECT_TRUE(len > 0 && len <= sizeof ti);
}

CASE(getsockopt, tcp_info_listen_and_close_states) {
    struct sockaddr_in a;
    int l = tcp_listener(&a);
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    EXPECT_OK(getsockopt(l, IPPROTO_TCP, TCP_INFO, &ti, &len));
    EXPECT_EQ(ti.tcpi_state, TCP_LISTEN);
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_STREAM, 0));
    len = sizeof ti;
    EXPECT_OK(getsockopt(s, IPPROTO_TCP, TCP_INFO, &ti, &len));
    EXPECT_EQ(ti.tcpi_state, TCP_CLOSE);
}

CASE(getsockopt, tcp_info_short_length_truncates) {
    int c, s;
    tcp_pair(&c, &s);
    unsigned char b[4] = {0xff, 0xff, 0xff, 0xff};
    socklen_t len = 1;
    EXPECT_OK(getsockopt(c, IPPROTO_TCP, TCP_INFO, b, &len));
    EXPECT_EQ(len, 1);
    EXPECT_EQ(b[0], TCP_ESTABLISHED);
    EXPECT_EQ(b[1], 0xff);
}

CASE(setsockopt, tcp_cork_and_quickack) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_STREAM, 0));
    set_int_opt(s, IPPROTO_TCP, TCP_CORK, 1);
    EXPECT_EQ(get_int_opt(s, IPPROTO_TCP, TCP_CORK), 1);
    set_int_opt(s, IPPROTO_TCP, TCP_CORK, 0);
    EXPECT_EQ(get_int_opt(s, IPPROTO_TCP, TCP_CORK), 0);
    set_int_opt(s, IPPROTO_TCP, TCP_QUICKACK, 1);
    EXPECT_EQ(get_int_opt(s, IPPROTO_TCP, TCP_QUICKACK), 1);
}

CASE(setsockopt, tcp_defer_accept_and_notsent_lowat) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_STREAM, 0));
    set_int_opt(s, IPPROTO_TCP, TCP_DEFER_ACCEPT, 0);
    EXPECT_EQ(get_int_opt(s, IPPROTO_TCP, TCP_DEFER_ACCEPT), 0);
    set_int_opt(s, IPPROTO_TCP, TCP_NOTSENT_LOWAT, 16384);
    EXPECT_EQ(get_int_opt(s, IPPROTO_TCP, TCP_NOTSENT_LOWAT), 16384);
}

CASE(setsockopt, tcp_linger2_and_window_clamp) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_STREAM, 0));
    set_int_opt(s, IPPROTO_TCP, TCP_LINGER2, 10);
    EXPECT_EQ(get_int_opt(s, IPPROTO_TCP, TCP_LINGER2), 10);
    set_int_opt(s, IPPROTO_TCP, TCP_WINDOW_CLAMP, 65536);
    EXPECT_EQ(get_int_opt(s, IPPROTO_TCP, TCP_WINDOW_CLAMP), 65536);
}

CASE(setsockopt, tcp_fastopen_on_listener) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_STREAM, 0));
    set_int_opt(s, IPPROTO_TCP, TCP_FASTOPEN, 5);
    EXPECT_EQ(get_int_opt(s, IPPROTO_TCP, TCP_FASTOPEN), 5);
}

CASE(setsockopt, tcp_level_on_udp_enoprotoopt) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    int v = 1;
    EXPECT_ERRNO(setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v), ENOPROTOOPT);
    socklen_t len = sizeof v; /* Linux: udp_lib_getsockopt's default */
    EXPECT_ERRNO(getsockopt(s, IPPROTO_TCP, TCP_NODELAY, &v, &len), EOPNOTSUPP);
}

CASE(setsockopt, tcp_unknown_option_enoprotoopt) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_STREAM, 0));
    int v = 1;
    EXPECT_ERRNO(setsockopt(s, IPPROTO_TCP, 9999, &v, sizeof v), ENOPROTOOPT);
}

CASE(setsockopt, tcp_short_optlen_einval) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_STREAM, 0));
    short v = 1;
    EXPECT_ERRNO(setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &v, 2), EINVAL);
}

/* ---- IPPROTO_IP ---- */

CASE(setsockopt, ip_tos_roundtrip_udp) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    EXPECT_EQ(get_int_opt(s, IPPROTO_IP, IP_TOS), 0);
    set_int_opt(s, IPPROTO_IP, IP_TOS, IPTOS_LOWDELAY);
    EXPECT_EQ(get_int_opt(s, IPPROTO_IP, IP_TOS), IPTOS_LOWDELAY);
}

CASE(setsockopt, ip_tos_one_byte_optval) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    unsigned char v = IPTOS_THROUGHPUT;
    EXPECT_OK(setsockopt(s, IPPROTO_IP, IP_TOS, &v, 1));
    EXPECT_EQ(get_int_opt(s, IPPROTO_IP, IP_TOS), IPTOS_THROUGHPUT);
    unsigned char got = 0;
    socklen_t len = 1;
    EXPECT_OK(getsockopt(s, IPPROTO_IP, IP_TOS, &got, &len));
    EXPECT_EQ(len, 1);
    EXPECT_EQ(got, IPTOS_THROUGHPUT);
}

CASE(setsockopt, ip_ttl_roundtrip_and_range) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    int def = get_int_opt(s, IPPROTO_IP, IP_TTL);
    EXPECT_TRUE(def > 0 && def < 256);
    set_int_opt(s, IPPROTO_IP, IP_TTL, 7);
    EXPECT_EQ(get_int_opt(s, IPPROTO_IP, IP_TTL), 7);
    int v = 0;
    EXPECT_ERRNO(setsockopt(s, IPPROTO_IP, IP_TTL, &v, sizeof v), EINVAL);
    v = 256;
    EXPECT_ERRNO(setsockopt(s, IPPROTO_IP, IP_TTL, &v, sizeof v), EINVAL);
    set_int_opt(s, IPPROTO_IP, IP_TTL, -1);
    EXPECT_EQ(get_int_opt(s, IPPROTO_IP, IP_TTL), def);
}

CASE(setsockopt, ip_recverr_flag) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    EXPECT_EQ(get_int_opt(s, IPPROTO_IP, IP_RECVERR), 0);
    set_int_opt(s, IPPROTO_IP, IP_RECVERR, 1);
    EXPECT_EQ(get_int_opt(s, IPPROTO_IP, IP_RECVERR), 1);
}

CASE(setsockopt, ip_multicast_ttl_loop) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    EXPECT_EQ(get_int_opt(s, IPPROTO_IP, IP_MULTICAST_TTL), 1);
    EXPECT_EQ(get_int_opt(s, IPPROTO_IP, IP_MULTICAST_LOOP), 1);
    set_int_opt(s, IPPROTO_IP, IP_MULTICAST_TTL, 32);
    EXPECT_EQ(get_int_opt(s, IPPROTO_IP, IP_MULTICAST_TTL), 32);
    set_int_opt(s, IPPROTO_IP, IP_MULTICAST_LOOP, 0);
    EXPECT_EQ(get_int_opt(s, IPPROTO_IP, IP_MULTICAST_LOOP), 0);
    int v = 256;
    EXPECT_ERRNO(setsockopt(s, IPPROTO_IP, IP_MULTICAST_TTL, &v, sizeof v), EINVAL);
    set_int_opt(s, IPPROTO_IP, IP_MULTICAST_TTL, -1);
    EXPECT_EQ(get_int_opt(s, IPPROTO_IP, IP_MULTICAST_TTL), 1);
}

CASE(setsockopt, ip_multicast_if_by_address) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    struct in_addr a = {htonl(INADDR_LOOPBACK)}, got = {0};
    EXPECT_OK(setsockopt(s, IPPROTO_IP, IP_MULTICAST_IF, &a, sizeof a));
    socklen_t len = sizeof got;
    EXPECT_OK(getsockopt(s, IPPROTO_IP, IP_MULTICAST_IF, &got, &len));
    EXPECT_EQ(got.s_addr, a.s_addr);
    struct in_addr bogus = {inet_addr("192.0.2.77")};
    EXPECT_ERRNO(setsockopt(s, IPPROTO_IP, IP_MULTICAST_IF, &bogus, sizeof bogus),
                 EADDRNOTAVAIL);
}

CASE(setsockopt, ip_multicast_all_and_pktinfo_flags) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    EXPECT_EQ(get_int_opt(s, IPPROTO_IP, IP_MULTICAST_ALL), 1);
    set_int_opt(s, IPPROTO_IP, IP_MULTICAST_ALL, 0);
    EXPECT_EQ(get_int_opt(s, IPPROTO_IP, IP_MULTICAST_ALL), 0);
    set_int_opt(s, IPPROTO_IP, IP_PKTINFO, 1);
    EXPECT_EQ(get_int_opt(s, IPPROTO_IP, IP_PKTINFO), 1);
}

CASE(setsockopt, ip_mtu_discover_values) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    set_int_opt(s, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO);
    EXPECT_EQ(get_int_opt(s, IPPROTO_IP, IP_MTU_DISCOVER), IP_PMTUDISC_DO);
    int v = 99;
    EXPECT_ERRNO(setsockopt(s, IPPROTO_IP, IP_MTU_DISCOVER, &v, sizeof v), EINVAL);
}

CASE(getsockopt, ip_mtu_needs_a_connected_socket) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    int v;
    socklen_t len = sizeof v;
    EXPECT_ERRNO(getsockopt(s, IPPROTO_IP, IP_MTU, &v, &len), ENOTCONN);
    struct sockaddr_in a = lo4(9);
    EXPECT_OK(connect(s, (struct sockaddr *)&a, sizeof a));
    EXPECT_TRUE(get_int_opt(s, IPPROTO_IP, IP_MTU) >= 576);
}

CASE(setsockopt, ip_hdrincl_needs_raw_enoprotoopt) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    int v = 1;
    EXPECT_ERRNO(setsockopt(s, IPPROTO_IP, IP_HDRINCL, &v, sizeof v), ENOPROTOOPT);
}

CASE(setsockopt, ip_freebind_and_bind_nonlocal) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    struct sockaddr_in a = lo4(0);
    a.sin_addr.s_addr = inet_addr("192.0.2.1");
    EXPECT_ERRNO(bind(s, (struct sockaddr *)&a, sizeof a), EADDRNOTAVAIL);
    set_int_opt(s, IPPROTO_IP, IP_FREEBIND, 1);
    EXPECT_EQ(get_int_opt(s, IPPROTO_IP, IP_FREEBIND), 1);
    EXPECT_OK(bind(s, (struct sockaddr *)&a, sizeof a));
}

CASE(setsockopt, ip_transparent_needs_net_admin_or_raw) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    drop_effective_cap(CAP_NET_ADMIN_);
    drop_effective_cap(CAP_NET_RAW_);
    int v = 1;
    EXPECT_ERRNO(setsockopt(s, IPPROTO_IP, IP_TRANSPARENT, &v, sizeof v), EPERM);
    EXPECT_EQ(get_int_opt(s, IPPROTO_IP, IP_TRANSPARENT), 0);
}

CASE(setsockopt, ipv6_level_on_ipv4_socket_enoprotoopt) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    int v = 1;
    EXPECT_ERRNO(setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof v), ENOPROTOOPT);
}

CASE(setsockopt, ip_unknown_option_enoprotoopt) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    int v = 1;
    EXPECT_ERRNO(setsockopt(s, IPPROTO_IP, 250, &v, sizeof v), ENOPROTOOPT);
}

/* ---- IPPROTO_IPV6 ---- */

CASE(setsockopt, ipv6_v6only_roundtrip) {
    int s = (int)EXPECT_OK(socket(AF_INET6, SOCK_STREAM, 0));
    int def = get_int_opt(s, IPPROTO_IPV6, IPV6_V6ONLY);
    EXPECT_TRUE(def == 0 || def == 1);
    set_int_opt(s, IPPROTO_IPV6, IPV6_V6ONLY, 1);
    EXPECT_EQ(get_int_opt(s, IPPROTO_IPV6, IPV6_V6ONLY), 1);
    set_int_opt(s, IPPROTO_IPV6, IPV6_V6ONLY, 0);
    EXPECT_EQ(get_int_opt(s, IPPROTO_IPV6, IPV6_V6ONLY), 0);
}

CASE(setsockopt, ipv6_v6only_after_bind_einval) {
    int s = (int)EXPECT_OK(socket(AF_INET6, SOCK_DGRAM, 0));
    struct sockaddr_in6 a = lo6(0);
    EXPECT_OK(bind(s, (struct sockaddr *)&a, sizeof a));
    int v = 1;
    EXPECT_ERRNO(setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof v), EINVAL);
}

CASE(setsockopt, ipv6_v6only_refuses_mapped_v4) {
    int s = (int)EXPECT_OK(socket(AF_INET6, SOCK_DGRAM, 0));
    set_int_opt(s, IPPROTO_IPV6, IPV6_V6ONLY, 1);
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(9)};
    inet_pton(AF_INET6, "::ffff:127.0.0.1", &a.sin6_addr);
    EXPECT_ERRNO(connect(s, (struct sockaddr *)&a, sizeof a), ENETUNREACH);
}

CASE(socket, ipv6_dual_stack_receives_ipv4) {
    int r = (int)EXPECT_OK(socket(AF_INET6, SOCK_DGRAM, 0));
    set_int_opt(r, IPPROTO_IPV6, IPV6_V6ONLY, 0);
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT};
    socklen_t len = sizeof a;
    EXPECT_OK(bind(r, (struct sockaddr *)&a, sizeof a));
    EXPECT_OK(getsockname(r, (struct sockaddr *)&a, &len));
    int w = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    struct sockaddr_in to = lo4(ntohs(a.sin6_port));
    EXPECT_EQ(sendto(w, "v4", 2, 0, (struct sockaddr *)&to, sizeof to), 2);
    struct sockaddr_in6 from;
    socklen_t flen = sizeof from;
    char b[4] = {0};
    EXPECT_EQ(recvfrom(r, b, sizeof b, 0, (struct sockaddr *)&from, &flen), 2);
    EXPECT_EQ(flen, sizeof from);
    EXPECT_TRUE(IN6_IS_ADDR_V4MAPPED(&from.sin6_addr));
}

CASE(setsockopt, ipv6_unicast_hops_roundtrip_and_range) {
    int s = (int)EXPECT_OK(socket(AF_INET6, SOCK_DGRAM, 0));
    int def = get_int_opt(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS);
    EXPECT_TRUE(def > 0 && def < 256);
    set_int_opt(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, 9);
    EXPECT_EQ(get_int_opt(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS), 9);
    int v = 256;
    EXPECT_ERRNO(setsockopt(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &v, sizeof v), EINVAL);
    v = -2;
    EXPECT_ERRNO(setsockopt(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &v, sizeof v), EINVAL);
    set_int_opt(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, -1);
    EXPECT_EQ(get_int_opt(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS), def);
}

CASE(setsockopt, ipv6_multicast_hops_and_loop) {
    int s = (int)EXPECT_OK(socket(AF_INET6, SOCK_DGRAM, 0));
    EXPECT_EQ(get_int_opt(s, IPPROTO_IPV6, IPV6_MULTICAST_HOPS), 1);
    set_int_opt(s, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, 5);
    EXPECT_EQ(get_int_opt(s, IPPROTO_IPV6, IPV6_MULTICAST_HOPS), 5);
    EXPECT_EQ(get_int_opt(s, IPPROTO_IPV6, IPV6_MULTICAST_LOOP), 1);
    set_int_opt(s, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0);
    EXPECT_EQ(get_int_opt(s, IPPROTO_IPV6, IPV6_MULTICAST_LOOP), 0);
    int v = 2;
    EXPECT_ERRNO(setsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &v, sizeof v), EINVAL);
}

CASE(setsockopt, ipv6_multicast_if_by_index) {
    int s = (int)EXPECT_OK(socket(AF_INET6, SOCK_DGRAM, 0));
    int lo = (int)if_nametoindex("lo");
    EXPECT_TRUE(lo > 0);
    set_int_opt(s, IPPROTO_IPV6, IPV6_MULTICAST_IF, lo);
    EXPECT_EQ(get_int_opt(s, IPPROTO_IPV6, IPV6_MULTICAST_IF), lo);
    int v = 99999;
    EXPECT_ERRNO(setsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_IF, &v, sizeof v), ENODEV);
}

CASE(setsockopt, ipv6_tclass_and_recvpktinfo) {
    int s = (int)EXPECT_OK(socket(AF_INET6, SOCK_DGRAM, 0));
    set_int_opt(s, IPPROTO_IPV6, IPV6_TCLASS, 0x28);
    EXPECT_EQ(get_int_opt(s, IPPROTO_IPV6, IPV6_TCLASS), 0x28);
    int v = 256;
    EXPECT_ERRNO(setsockopt(s, IPPROTO_IPV6, IPV6_TCLASS, &v, sizeof v), EINVAL);
    set_int_opt(s, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
    EXPECT_EQ(get_int_opt(s, IPPROTO_IPV6, IPV6_RECVPKTINFO), 1);
}

CASE(getsockopt, ipv6_mtu_connected) {
    int s = (int)EXPECT_OK(socket(AF_INET6, SOCK_DGRAM, 0));
    int v;
    socklen_t len = sizeof v;
    EXPECT_ERRNO(getsockopt(s, IPPROTO_IPV6, IPV6_MTU, &v, &len), ENOTCONN);
    struct sockaddr_in6 a = lo6(9);
    EXPECT_OK(connect(s, (struct sockaddr *)&a, sizeof a));
    EXPECT_TRUE(get_int_opt(s, IPPROTO_IPV6, IPV6_MTU) >= 1280);
}

CASE(recvmsg, ipv6_pktinfo_names_loopback) {
    int r = (int)EXPECT_OK(socket(AF_INET6, SOCK_DGRAM, 0));
    struct sockaddr_in6 a = lo6(0);
    socklen_t len = sizeof a;
    EXPECT_OK(bind(r, (struct sockaddr *)&a, sizeof a));
    EXPECT_OK(getsockname(r, (struct sockaddr *)&a, &len));
    set_int_opt(r, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
    int w = (int)EXPECT_OK(socket(AF_INET6, SOCK_DGRAM, 0));
    EXPECT_EQ(sendto(w, "x", 1, 0, (struct sockaddr *)&a, sizeof a), 1);
    char b[8], cb[256];
    struct iovec iov = {b, sizeof b};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cb,
                       .msg_controllen = sizeof cb};
    EXPECT_EQ(recvmsg(r, &m, 0), 1);
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    EXPECT_TRUE(c != NULL);
    EXPECT_EQ(c->cmsg_level, IPPROTO_IPV6);
    EXPECT_EQ(c->cmsg_type, IPV6_PKTINFO);
    struct in6_pktinfo pi;
    memcpy(&pi, CMSG_DATA(c), sizeof pi);
    EXPECT_TRUE(IN6_IS_ADDR_LOOPBACK(&pi.ipi6_addr));
    EXPECT_EQ(pi.ipi6_ifindex, if_nametoindex("lo"));
}

/* ---- SOL_SOCKET ---- */

CASE(getsockopt, so_type_domain_protocol) {
    int t = (int)EXPECT_OK(socket(AF_INET, SOCK_STREAM, 0));
    int u = (int)EXPECT_OK(socket(AF_INET6, SOCK_DGRAM, 0));
    EXPECT_EQ(get_int_opt(t, SOL_SOCKET, SO_TYPE), SOCK_STREAM);
    EXPECT_EQ(get_int_opt(u, SOL_SOCKET, SO_TYPE), SOCK_DGRAM);
    EXPECT_EQ(get_int_opt(t, SOL_SOCKET, SO_DOMAIN), AF_INET);
    EXPECT_EQ(get_int_opt(u, SOL_SOCKET, SO_DOMAIN), AF_INET6);
    EXPECT_EQ(get_int_opt(t, SOL_SOCKET, SO_PROTOCOL), IPPROTO_TCP);
    EXPECT_EQ(get_int_opt(u, SOL_SOCKET, SO_PROTOCOL), IPPROTO_UDP);
}

CASE(setsockopt, so_type_domain_protocol_are_read_only) {
    int t = (int)EXPECT_OK(socket(AF_INET, SOCK_STREAM, 0));
    int v = SOCK_DGRAM;
    EXPECT_ERRNO(setsockopt(t, SOL_SOCKET, SO_TYPE, &v, sizeof v), ENOPROTOOPT);
    EXPECT_ERRNO(setsockopt(t, SOL_SOCKET, SO_PROTOCOL, &v, sizeof v), ENOPROTOOPT);
    EXPECT_ERRNO(setsockopt(t, SOL_SOCKET, SO_DOMAIN, &v, sizeof v), ENOPROTOOPT);
    EXPECT_ERRNO(setsockopt(t, SOL_SOCKET, SO_ACCEPTCONN, &v, sizeof v), ENOPROTOOPT);
}

CASE(getsockopt, so_acceptconn_follows_listen) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_STREAM, 0));
    EXPECT_EQ(get_int_opt(s, SOL_SOCKET, SO_ACCEPTCONN), 0);
    bind_lo4(s);
    EXPECT_OK(listen(s, 1));
    EXPECT_EQ(get_int_opt(s, SOL_SOCKET, SO_ACCEPTCONN), 1);
}

CASE(getsockopt, so_error_after_refused_connect) {
    struct sockaddr_in a;
    int l = tcp_listener(&a);
    close(l); /* nothing listens on a now */
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
    int r = connect(s, (struct sockaddr *)&a, sizeof a);
    if (r == 0)
        FAIL("connect to a closed port succeeded");
    if (errno == EINPROGRESS) {
        struct pollfd p = {s, POLLOUT, 0};
        EXPECT_EQ(poll(&p, 1, 3000), 1);
        EXPECT_EQ(get_int_opt(s, SOL_SOCKET, SO_ERROR), ECONNREFUSED);
    } else {
        EXPECT_EQ(errno, ECONNREFUSED);
    }
    EXPECT_EQ(get_int_opt(s, SOL_SOCKET, SO_ERROR), 0);
}

CASE(connect, tcp_refused_econnrefused) {
    struct sockaddr_in a;
    int l = tcp_listener(&a);
    close(l);
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_STREAM, 0));
    EXPECT_ERRNO(connect(s, (struct sockaddr *)&a, sizeof a), ECONNREFUSED);
}

CASE(setsockopt, so_reuseaddr_rebinds_a_closed_listeners_port) {
    int l = (int)EXPECT_OK(socket(AF_INET, SOCK_STREAM, 0));
    set_int_opt(l, SOL_SOCKET, SO_REUSEADDR, 1);
    struct sockaddr_in a = bind_lo4(l);
    EXPECT_OK(listen(l, 1));
    int c = (int)EXPECT_OK(socket(AF_INET, SOCK_STREAM, 0));
    EXPECT_OK(connect(c, (struct sockaddr *)&a, sizeof a));
    int x = (int)EXPECT_OK(accept(l, NULL, NULL));
    close(x); /* the server side closes first: TIME_WAIT on its port */
    close(l);
    char b[1];
    EXPECT_EQ(read(c, b, 1), 0);
    close(c);
    int n = (int)EXPECT_OK(socket(AF_INET, SOCK_STREAM, 0));
    set_int_opt(n, SOL_SOCKET, SO_REUSEADDR, 1);
    EXPECT_EQ(get_int_opt(n, SOL_SOCKET, SO_REUSEADDR), 1);
    EXPECT_OK(bind(n, (struct sockaddr *)&a, sizeof a));
    EXPECT_OK(listen(n, 1));
}

CASE(bind, tcp_port_in_use_eaddrinuse) {
    struct sockaddr_in a;
    int l = tcp_listener(&a);
    int n = (int)EXPECT_OK(socket(AF_INET, SOCK_STREAM, 0));
    set_int_opt(n, SOL_SOCKET, SO_REUSEADDR, 1);
    EXPECT_ERRNO(bind(n, (struct sockaddr *)&a, sizeof a), EADDRINUSE);
    (void)l;
}

CASE(bind, inet_twice_einval) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    bind_lo4(s);
    struct sockaddr_in a = lo4(0);
    EXPECT_ERRNO(bind(s, (struct sockaddr *)&a, sizeof a), EINVAL);
}

CASE(bind, inet_short_address_einval) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    struct sockaddr_in a = lo4(0);
    EXPECT_ERRNO(bind(s, (struct sockaddr *)&a, 4), EINVAL);
    struct sockaddr_in6 b = lo6(0);
    EXPECT_ERRNO(bind(s, (struct sockaddr *)&b, sizeof b), EAFNOSUPPORT);
}

CASE(setsockopt, so_reuseport_shares_a_udp_port) {
    int x = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    set_int_opt(x, SOL_SOCKET, SO_REUSEPORT, 1);
    EXPECT_EQ(get_int_opt(x, SOL_SOCKET, SO_REUSEPORT), 1);
    struct sockaddr_in a = bind_lo4(x);
    int y = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    set_int_opt(y, SOL_SOCKET, SO_REUSEPORT, 1);
    EXPECT_OK(bind(y, (struct sockaddr *)&a, sizeof a));
    int z = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    EXPECT_ERRNO(bind(z, (struct sockaddr *)&a, sizeof a), EADDRINUSE);
}

CASE(setsockopt, so_reuseport_tcp_listeners) {
    int x = (int)EXPECT_OK(socket(AF_INET, SOCK_STREAM, 0));
    set_int_opt(x, SOL_SOCKET, SO_REUSEPORT, 1);
    struct sockaddr_in a = bind_lo4(x);
    EXPECT_OK(listen(x, 1));
    int y = (int)EXPECT_OK(socket(AF_INET, SOCK_STREAM, 0));
    set_int_opt(y, SOL_SOCKET, SO_REUSEPORT, 1);
    EXPECT_OK(bind(y, (struct sockaddr *)&a, sizeof a));
    EXPECT_OK(listen(y, 1));
}

CASE(setsockopt, so_linger_roundtrip) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_STREAM, 0));
    struct linger l = {1, 3}, got = {9, 9};
    socklen_t len = sizeof got;
    EXPECT_OK(getsockopt(s, SOL_SOCKET, SO_LINGER, &got, &len));
    EXPECT_EQ(got.l_onoff, 0);
    EXPECT_OK(setsockopt(s, SOL_SOCKET, SO_LINGER, &l, sizeof l));
    len = sizeof got;
    EXPECT_OK(getsockopt(s, SOL_SOCKET, SO_LINGER, &got, &len));
    EXPECT_EQ(len, sizeof got);
    EXPECT_TRUE(got.l_onoff != 0);
    EXPECT_EQ(got.l_linger, 3);
    EXPECT_ERRNO(setsockopt(s, SOL_SOCKET, SO_LINGER, &l, sizeof l - 1), EINVAL);
}

CASE(setsockopt, so_linger_zero_resets_the_peer) {
    int c, s;
    tcp_pair(&c, &s);
    struct linger l = {1, 0};
    EXPECT_OK(setsockopt(c, SOL_SOCKET, SO_LINGER, &l, sizeof l));
    close(c);
    char b[4];
    EXPECT_ERRNO(read(s, b, sizeof b), ECONNRESET);
}

CASE(setsockopt, so_rcvtimeo_roundtrip_and_eagain) {
    int x, y;
    udp_pair(&x, &y);
    struct timeval tv = {0, 20000}, got;
    EXPECT_OK(setsockopt(x, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
    socklen_t len = sizeof got;
    EXPECT_OK(getsockopt(x, SOL_SOCKET, SO_RCVTIMEO, &got, &len));
    EXPECT_EQ(len, sizeof got);
    EXPECT_EQ(got.tv_sec, 0);
    EXPECT_TRUE(got.tv_usec >= 20000 && got.tv_usec < 30000);
    char b[4];
    EXPECT_ERRNO(recv(x, b, sizeof b, 0), EAGAIN);
}

CASE(setsockopt, so_rcvtimeo_bad_usec_edom) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    struct timeval tv = {0, 1000000};
    EXPECT_ERRNO(setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), EDOM);
    EXPECT_ERRNO(setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, 4), EINVAL);
}

CASE(setsockopt, so_sndtimeo_roundtrip) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_STREAM, 0));
    struct timeval tv = {2, 0}, got = {0, 0};
    socklen_t len = sizeof got;
    EXPECT_OK(getsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &got, &len));
    EXPECT_EQ(got.tv_sec, 0);
    EXPECT_EQ(got.tv_usec, 0);
    EXPECT_OK(setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv));
    len = sizeof got;
    EXPECT_OK(getsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &got, &len));
    EXPECT_EQ(got.tv_sec, 2);
}

CASE(setsockopt, so_keepalive_oobinline_broadcast_flags) {
    int t = (int)EXPECT_OK(socket(AF_INET, SOCK_STREAM, 0));
    int u = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    EXPECT_EQ(get_int_opt(t, SOL_SOCKET, SO_KEEPALIVE), 0);
    set_int_opt(t, SOL_SOCKET, SO_KEEPALIVE, 1);
    EXPECT_EQ(get_int_opt(t, SOL_SOCKET, SO_KEEPALIVE), 1);
    set_int_opt(t, SOL_SOCKET, SO_OOBINLINE, 1);
    EXPECT_EQ(get_int_opt(t, SOL_SOCKET, SO_OOBINLINE), 1);
    set_int_opt(u, SOL_SOCKET, SO_BROADCAST, 1);
    EXPECT_EQ(get_int_opt(u, SOL_SOCKET, SO_BROADCAST), 1);
    set_int_opt(u, SOL_SOCKET, SO_DONTROUTE, 1);
    EXPECT_EQ(get_int_opt(u, SOL_SOCKET, SO_DONTROUTE), 1);
}

CASE(setsockopt, so_rcvbuf_is_doubled) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    set_int_opt(s, SOL_SOCKET, SO_RCVBUF, 8192);
    EXPECT_EQ(get_int_opt(s, SOL_SOCKET, SO_RCVBUF), 16384);
    set_int_opt(s, SOL_SOCKET, SO_SNDBUF, 8192);
    EXPECT_EQ(get_int_opt(s, SOL_SOCKET, SO_SNDBUF), 16384);
}

CASE(setsockopt, so_rcvbuf_has_a_minimum) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    set_int_opt(s, SOL_SOCKET, SO_RCVBUF, 1);
    int v = get_int_opt(s, SOL_SOCKET, SO_RCVBUF);
    EXPECT_TRUE(v >= 2048 && v < 8192);
}

CASE(setsockopt, so_rcvbufforce_without_cap_net_admin_eperm) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    drop_effective_cap(CAP_NET_ADMIN_);
    int v = 65536;
    EXPECT_ERRNO(setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof v), EPERM);
    EXPECT_ERRNO(setsockopt(s, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof v), EPERM);
}

CASE(setsockopt, so_rcvbufforce_with_cap_net_admin) {
    if (!has_cap(CAP_NET_ADMIN_))
        harness_skip("needs CAP_NET_ADMIN");
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    set_int_opt(s, SOL_SOCKET, SO_RCVBUFFORCE, 1 << 24);
    EXPECT_EQ(get_int_opt(s, SOL_SOCKET, SO_RCVBUF), 1 << 25);
    set_int_opt(s, SOL_SOCKET, SO_SNDBUFFORCE, 1 << 23);
    EXPECT_EQ(get_int_opt(s, SOL_SOCKET, SO_SNDBUF), 1 << 24);
}

CASE(setsockopt, so_priority_above_6_needs_cap_net_admin) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    set_int_opt(s, SOL_SOCKET, SO_PRIORITY, 6);
    EXPECT_EQ(get_int_opt(s, SOL_SOCKET, SO_PRIORITY), 6);
    drop_effective_cap(CAP_NET_ADMIN_);
    drop_effective_cap(CAP_NET_RAW_);
    int v = 7;
    EXPECT_ERRNO(setsockopt(s, SOL_SOCKET, SO_PRIORITY, &v, sizeof v), EPERM);
    EXPECT_EQ(get_int_opt(s, SOL_SOCKET, SO_PRIORITY), 6);
}

CASE(setsockopt, so_mark_needs_cap_net_admin) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    EXPECT_EQ(get_int_opt(s, SOL_SOCKET, SO_MARK), 0);
    drop_effective_cap(CAP_NET_ADMIN_);
    drop_effective_cap(CAP_NET_RAW_);
    int v = 7;
    EXPECT_ERRNO(setsockopt(s, SOL_SOCKET, SO_MARK, &v, sizeof v), EPERM);
}

CASE(setsockopt, so_rcvlowat_and_sndlowat) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_STREAM, 0));
    EXPECT_EQ(get_int_opt(s, SOL_SOCKET, SO_RCVLOWAT), 1);
    set_int_opt(s, SOL_SOCKET, SO_RCVLOWAT, 10);
    EXPECT_EQ(get_int_opt(s, SOL_SOCKET, SO_RCVLOWAT), 10);
    EXPECT_EQ(get_int_opt(s, SOL_SOCKET, SO_SNDLOWAT), 1);
    int v = 10;
    EXPECT_ERRNO(setsockopt(s, SOL_SOCKET, SO_SNDLOWAT, &v, sizeof v), ENOPROTOOPT);
}

CASE(setsockopt, so_timestamp_flags) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    set_int_opt(s, SOL_SOCKET, SO_TIMESTAMP, 1);
    EXPECT_EQ(get_int_opt(s, SOL_SOCKET, SO_TIMESTAMP), 1);
    set_int_opt(s, SOL_SOCKET, SO_TIMESTAMPNS, 1);
    EXPECT_EQ(get_int_opt(s, SOL_SOCKET, SO_TIMESTAMPNS), 1);
}

CASE(setsockopt, so_unknown_option_enoprotoopt) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    int v = 1;
    EXPECT_ERRNO(setsockopt(s, SOL_SOCKET, 9999, &v, sizeof v), ENOPROTOOPT);
    socklen_t len = sizeof v;
    EXPECT_ERRNO(getsockopt(s, SOL_SOCKET, 9999, &v, &len), ENOPROTOOPT);
}

CASE(setsockopt, so_short_optlen_and_bad_pointer) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    int v = 1;
    EXPECT_ERRNO(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, 2), EINVAL);
    EXPECT_ERRNO(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, (void *)8, sizeof v), EFAULT);
}

CASE(getsockopt, negative_optlen_einval_and_bad_pointer) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    int v;
    socklen_t len = (socklen_t)-1;
    EXPECT_ERRNO(getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &len), EINVAL);
    len = sizeof v;
    EXPECT_ERRNO(getsockopt(s, SOL_SOCKET, SO_TYPE, (void *)8, &len), EFAULT);
    EXPECT_ERRNO(getsockopt(s, SOL_SOCKET, SO_TYPE, &v, (socklen_t *)8), EFAULT);
}

CASE(getsockopt, not_a_socket_enotsock_and_ebadf) {
    put_file("f", "x");
    int f = (int)EXPECT_OK(open("f", O_RDONLY));
    int v;
    socklen_t len = sizeof v;
    EXPECT_ERRNO(getsockopt(f, SOL_SOCKET, SO_TYPE, &v, &len), ENOTSOCK);
    EXPECT_ERRNO(getsockopt(999, SOL_SOCKET, SO_TYPE, &v, &len), EBADF);
    EXPECT_ERRNO(setsockopt(f, SOL_SOCKET, SO_REUSEADDR, &v, sizeof v), ENOTSOCK);
}

CASE(getsockopt, so_int_option_short_buffer) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_STREAM, 0));
    unsigned char b[4] = {0xaa, 0xaa, 0xaa, 0xaa};
    socklen_t len = 1;
    EXPECT_OK(getsockopt(s, SOL_SOCKET, SO_TYPE, b, &len));
    EXPECT_EQ(len, 1);
    EXPECT_EQ(b[0], SOCK_STREAM);
    EXPECT_EQ(b[1], 0xaa);
}

/* ---- SO_BINDTODEVICE ---- */

CASE(setsockopt, so_bindtodevice_lo_roundtrip) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    char name[IFNAMSIZ] = {0};
    socklen_t len = sizeof name;
    EXPECT_OK(getsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, name, &len));
    EXPECT_EQ(len, 0);
    EXPECT_OK(setsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3));
    len = sizeof name;
    EXPECT_OK(getsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, name, &len));
    EXPECT_STREQ(name, "lo");
    EXPECT_EQ(len, 3);
    EXPECT_EQ(get_int_opt(s, SOL_SOCKET, SO_BINDTOIFINDEX), (int)if_nametoindex("lo"));
}

CASE(setsockopt, so_bindtodevice_unknown_enodev) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    EXPECT_ERRNO(setsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, "nosuchdev0", 11), ENODEV);
}

CASE(setsockopt, so_bindtodevice_short_buffer_einval) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    EXPECT_OK(setsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3));
    char name[2];
    socklen_t len = sizeof name;
    EXPECT_ERRNO(getsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, name, &len), EINVAL);
}

CASE(setsockopt, so_bindtodevice_rebind_with_cap_net_raw) {
    if (!has_cap(CAP_NET_RAW_))
        harness_skip("needs CAP_NET_RAW");
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    EXPECT_OK(setsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3));
    EXPECT_OK(setsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, "", 0));
    char name[IFNAMSIZ];
    socklen_t len = sizeof name;
    EXPECT_OK(getsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, name, &len));
    EXPECT_EQ(len, 0);
}

CASE(setsockopt, so_bindtodevice_rebind_without_cap_net_raw_eperm) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    drop_effective_cap(CAP_NET_RAW_);
    EXPECT_OK(setsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3));
    EXPECT_ERRNO(setsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, "", 0), EPERM);
    int idx = get_int_opt(s, SOL_SOCKET, SO_BINDTOIFINDEX);
    EXPECT_EQ(idx, (int)if_nametoindex("lo"));
}

CASE(setsockopt, so_bindtodevice_bound_socket_still_talks_on_lo) {
    int x, y;
    udp_pair(&x, &y);
    EXPECT_OK(setsockopt(x, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3));
    EXPECT_EQ(send(x, "d", 1, 0), 1);
    char b[2];
    EXPECT_EQ(recv(y, b, sizeof b, 0), 1);
}

/* ---- send / receive families ---- */

CASE(recvfrom, msg_peek_then_read) {
    int x, y;
    udp_pair(&x, &y);
    EXPECT_EQ(send(x, "peek", 4, 0), 4);
    char b[8] = {0};
    EXPECT_EQ(recvfrom(y, b, sizeof b, MSG_PEEK, NULL, NULL), 4);
    EXPECT_STREQ(b, "peek");
    memset(b, 0, sizeof b);
    EXPECT_EQ(recvfrom(y, b, sizeof b, MSG_DONTWAIT, NULL, NULL), 4);
    EXPECT_STREQ(b, "peek");
    EXPECT_ERRNO(recvfrom(y, b, sizeof b, MSG_DONTWAIT, NULL, NULL), EAGAIN);
}

CASE(recvfrom, tcp_msg_peek_keeps_stream) {
    int c, s;
    tcp_pair(&c, &s);
    EXPECT_EQ(write(c, "abcdef", 6), 6);
    char b[8] = {0};
    struct pollfd p = {s, POLLIN, 0};
    EXPECT_EQ(poll(&p, 1, 3000), 1);
    EXPECT_EQ(recv(s, b, 3, MSG_PEEK), 3);
    EXPECT_STREQ(b, "abc");
    EXPECT_EQ(recv(s, b, 6, MSG_WAITALL), 6);
    b[6] = 0;
    EXPECT_STREQ(b, "abcdef");
}

CASE(recvfrom, udp_msg_trunc_returns_real_length) {
    int x, y;
    udp_pair(&x, &y);
    EXPECT_EQ(send(x, "0123456789", 10, 0), 10);
    char b[4];
    EXPECT_EQ(recv(y, b, sizeof b, MSG_TRUNC), 10);
    EXPECT_EQ(memcmp(b, "0123", 4), 0);
}

CASE(recvfrom, udp_short_read_discards_rest) {
    int x, y;
    udp_pair(&x, &y);
    EXPECT_EQ(send(x, "0123456789", 10, 0), 10);
    EXPECT_EQ(send(x, "ab", 2, 0), 2);
    char b[4];
    EXPECT_EQ(recv(y, b, 4, 0), 4);
    EXPECT_EQ(recv(y, b, 4, 0), 2);
}

CASE(recvfrom, tcp_msg_trunc_discards) {
    int c, s;
    tcp_pair(&c, &s);
    EXPECT_EQ(write(c, "abcdef", 6), 6);
    struct pollfd p = {s, POLLIN, 0};
    EXPECT_EQ(poll(&p, 1, 3000), 1);
    EXPECT_EQ(recv(s, NULL, 4, MSG_TRUNC), 4);
    char b[4] = {0};
    EXPECT_EQ(recv(s, b, 3, 0), 2);
    EXPECT_STREQ(b, "ef");
}

CASE(recvfrom, udp_source_address_and_short_addrlen) {
    int x, y;
    udp_pair(&x, &y);
    struct sockaddr_in xa;
    socklen_t xl = sizeof xa;
    EXPECT_OK(getsockname(x, (struct sockaddr *)&xa, &xl));
    EXPECT_EQ(send(x, "s", 1, 0), 1);
    EXPECT_EQ(send(x, "t", 1, 0), 1);
    struct sockaddr_in from;
    socklen_t flen = sizeof from;
    char b[2];
    EXPECT_EQ(recvfrom(y, b, 2, 0, (struct sockaddr *)&from, &flen), 1);
    EXPECT_EQ(flen, sizeof from);
    EXPECT_EQ(from.sin_port, xa.sin_port);
    EXPECT_EQ(from.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
    unsigned char small[4] = {0};
    flen = 4;
    EXPECT_EQ(recvfrom(y, b, 2, 0, (struct sockaddr *)small, &flen), 1);
    EXPECT_EQ(flen, sizeof from); /* the real length, truncated copy */
    EXPECT_EQ(small[0] | small[1] << 8, AF_INET);
}

CASE(recvfrom, dontwait_on_empty_tcp_eagain) {
    int c, s;
    tcp_pair(&c, &s);
    char b[2];
    EXPECT_ERRNO(recvfrom(s, b, 2, MSG_DONTWAIT, NULL, NULL), EAGAIN);
    close(c);
    struct pollfd p = {s, POLLIN, 0};
    EXPECT_EQ(poll(&p, 1, 3000), 1);
    EXPECT_EQ(recvfrom(s, b, 2, MSG_DONTWAIT, NULL, NULL), 0);
}

CASE(recvmsg, msg_trunc_flag_on_udp) {
    int x, y;
    udp_pair(&x, &y);
    EXPECT_EQ(send(x, "0123456789", 10, 0), 10);
    char b[4];
    struct iovec iov = {b, sizeof b};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    EXPECT_EQ(recvmsg(y, &m, 0), 4);
    EXPECT_TRUE(m.msg_flags & MSG_TRUNC);
}

CASE(recvmsg, scatter_into_iovecs) {
    int x, y;
    udp_pair(&x, &y);
    EXPECT_EQ(send(x, "abcdefgh", 8, 0), 8);
    char b1[3] = {0}, b2[5] = {0};
    struct iovec iov[2] = {{b1, 3}, {b2, 5}};
    struct msghdr m = {.msg_iov = iov, .msg_iovlen = 2};
    EXPECT_EQ(recvmsg(y, &m, 0), 8);
    EXPECT_EQ(memcmp(b1, "abc", 3), 0);
    EXPECT_EQ(memcmp(b2, "defgh", 5), 0);
    EXPECT_EQ(m.msg_flags, 0);
}

CASE(recvmsg, ip_pktinfo_ttl_tos_cmsgs) {
    int x, y;
    udp_pair(&x, &y);
    set_int_opt(y, IPPROTO_IP, IP_PKTINFO, 1);
    set_int_opt(y, IPPROTO_IP, IP_RECVTTL, 1);
    set_int_opt(y, IPPROTO_IP, IP_RECVTOS, 1);
    set_int_opt(x, IPPROTO_IP, IP_TTL, 33);
    set_int_opt(x, IPPROTO_IP, IP_TOS, IPTOS_LOWDELAY);
    EXPECT_EQ(send(x, "c", 1, 0), 1);
    char b[2], cb[512];
    struct iovec iov = {b, sizeof b};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cb,
                       .msg_controllen = sizeof cb};
    EXPECT_EQ(recvmsg(y, &m, 0), 1);
    int seen = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
        EXPECT_EQ(c->cmsg_level, IPPROTO_IP);
        if (c->cmsg_type == IP_PKTINFO) {
            struct in_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof pi);
            EXPECT_EQ(pi.ipi_addr.s_addr, htonl(INADDR_LOOPBACK));
            seen |= 1;
        } else if (c->cmsg_type == IP_TTL) {
            int t;
            memcpy(&t, CMSG_DATA(c), sizeof t);
            EXPECT_EQ(t, 33);
            seen |= 2;
        } else if (c->cmsg_type == IP_TOS) {
            EXPECT_EQ(*(unsigned char *)CMSG_DATA(c), IPTOS_LOWDELAY);
            seen |= 4;
        }
    }
    EXPECT_EQ(seen, 7);
}

CASE(recvmsg, so_timestamp_cmsg) {
    int x, y;
    udp_pair(&x, &y);
    set_int_opt(y, SOL_SOCKET, SO_TIMESTAMP, 1);
    EXPECT_EQ(send(x, "t", 1, 0), 1);
    char b[2], cb[128];
    struct iovec iov = {b, sizeof b};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cb,
                       .msg_controllen = sizeof cb};
    EXPECT_EQ(recvmsg(y, &m, 0), 1);
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    EXPECT_TRUE(c != NULL);
    EXPECT_EQ(c->cmsg_level, SOL_SOCKET);
    EXPECT_EQ(c->cmsg_type, SCM_TIMESTAMP);
    struct timeval tv;
    memcpy(&tv, CMSG_DATA(c), sizeof tv);
    EXPECT_TRUE(tv.tv_sec > 0);
}

CASE(recvmsg, control_buffer_too_small_sets_ctrunc) {
    int x, y;
    udp_pair(&x, &y);
    set_int_opt(y, IPPROTO_IP, IP_PKTINFO, 1);
    EXPECT_EQ(send(x, "c", 1, 0), 1);
    char b[2], cb[4];
    struct iovec iov = {b, sizeof b};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cb,
                       .msg_controllen = sizeof cb};
    EXPECT_EQ(recvmsg(y, &m, 0), 1);
    EXPECT_TRUE(m.msg_flags & MSG_CTRUNC);
}

CASE(recvmsg, ip_recverr_queues_port_unreachable) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    set_int_opt(s, IPPROTO_IP, IP_RECVERR, 1);
    int closed = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    struct sockaddr_in to = bind_lo4(closed);
    close(closed);
    EXPECT_EQ(sendto(s, "e", 1, 0, (struct sockaddr *)&to, sizeof to), 1);
    struct pollfd p = {s, 0, 0};
    EXPECT_EQ(poll(&p, 1, 3000), 1);
    EXPECT_TRUE(p.revents & POLLERR);
    char b[8], cb[512];
    struct sockaddr_in from;
    struct iovec iov = {b, sizeof b};
    struct msghdr m = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov,
                       .msg_iovlen = 1, .msg_control = cb, .msg_controllen = sizeof cb};
    EXPECT_EQ(recvmsg(s, &m, MSG_ERRQUEUE), 1);
    EXPECT_TRUE(m.msg_flags & MSG_ERRQUEUE);
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    EXPECT_TRUE(c != NULL);
    EXPECT_EQ(c->cmsg_level, IPPROTO_IP);
    EXPECT_EQ(c->cmsg_type, IP_RECVERR);
    struct sock_extended_err ee;
    memcpy(&ee, CMSG_DATA(c), sizeof ee);
    EXPECT_EQ(ee.ee_errno, ECONNREFUSED);
    EXPECT_EQ(ee.ee_origin, SO_EE_ORIGIN_ICMP);
    EXPECT_EQ(ee.ee_type, 3);
    EXPECT_EQ(ee.ee_code, 3);
    EXPECT_EQ(get_int_opt(s, SOL_SOCKET, SO_ERROR), 0);
}

CASE(recvmsg, errqueue_empty_eagain) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    char b[8];
    struct iovec iov = {b, sizeof b};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    EXPECT_ERRNO(recvmsg(s, &m, MSG_ERRQUEUE), EAGAIN);
}

CASE(recvmsg, connected_udp_gets_econnrefused) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    int closed = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    struct sockaddr_in to = bind_lo4(closed);
    close(closed);
    EXPECT_OK(connect(s, (struct sockaddr *)&to, sizeof to));
    EXPECT_EQ(send(s, "e", 1, 0), 1);
    struct pollfd p = {s, POLLIN, 0};
    EXPECT_EQ(poll(&p, 1, 3000), 1);
    char b[2];
    EXPECT_ERRNO(recv(s, b, 2, 0), ECONNREFUSED);
}

CASE(sendto, unconnected_udp_needs_an_address) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    EXPECT_ERRNO(sendto(s, "x", 1, 0, NULL, 0), EDESTADDRREQ);
    EXPECT_ERRNO(send(s, "x", 1, 0), EDESTADDRREQ);
}

CASE(sendto, udp_address_checks) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    struct sockaddr_in a = lo4(9);
    EXPECT_ERRNO(sendto(s, "x", 1, 0, (struct sockaddr *)&a, 4), EINVAL);
    struct sockaddr_in b = a;
    b.sin_family = AF_UNIX;
    EXPECT_ERRNO(sendto(s, "x", 1, 0, (struct sockaddr *)&b, sizeof b), EAFNOSUPPORT);
    EXPECT_ERRNO(sendto(s, "x", 1, 0, (struct sockaddr *)8, sizeof a), EFAULT);
}

CASE(sendto, udp_too_long_emsgsize) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    struct sockaddr_in a = lo4(9);
    static char big[70000];
    EXPECT_ERRNO(sendto(s, big, sizeof big, 0, (struct sockaddr *)&a, sizeof a), EMSGSIZE);
}

CASE(sendto, connected_udp_may_name_another_peer) {
    int x, y;
    udp_pair(&x, &y);
    int z = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    struct sockaddr_in za = bind_lo4(z);
    EXPECT_EQ(sendto(x, "z", 1, 0, (struct sockaddr *)&za, sizeof za), 1);
    char b[2];
    EXPECT_EQ(recv(z, b, 2, 0), 1);
    EXPECT_EQ(b[0], 'z');
}

CASE(sendto, unconnected_tcp_epipe_with_nosignal) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_STREAM, 0));
    EXPECT_ERRNO(sendto(s, "x", 1, MSG_NOSIGNAL, NULL, 0), EPIPE);
}

CASE(sendto, after_shutdown_wr_epipe_and_sigpipe) {
    int c, s;
    tcp_pair(&c, &s);
    EXPECT_OK(shutdown(c, SHUT_WR));
    EXPECT_ERRNO(sendto(c, "x", 1, MSG_NOSIGNAL, NULL, 0), EPIPE);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    EXPECT_OK(sigprocmask(SIG_BLOCK, &set, NULL));
    EXPECT_ERRNO(send(c, "x", 1, 0), EPIPE);
    sigset_t pend;
    EXPECT_OK(sigpending(&pend));
    EXPECT_TRUE(sigismember(&pend, SIGPIPE));
}

CASE(sendto, tcp_ignores_the_address) {
    int c, s;
    tcp_pair(&c, &s);
    struct sockaddr_in other = lo4(9);
    EXPECT_EQ(sendto(c, "ab", 2, 0, (struct sockaddr *)&other, sizeof other), 2);
    char b[3] = {0};
    EXPECT_EQ(recv(s, b, 2, MSG_WAITALL), 2);
    EXPECT_STREQ(b, "ab");
}

CASE(sendto, dontwait_on_full_unix_buffer_eagain) {
    int sv[2];
    EXPECT_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
    int v = 4096;
    EXPECT_OK(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &v, sizeof v));
    char b[1024] = {0};
    int sent = 0;
    for (int i = 0; i < 10000; i++) {
        if (sendto(sv[0], b, sizeof b, MSG_DONTWAIT, NULL, 0) < 0) {
            EXPECT_EQ(errno, EAGAIN);
            break;
        }
        sent++;
    }
    EXPECT_TRUE(sent > 0 && sent < 10000);
}

CASE(sendmsg, gather_iovecs_udp) {
    int x, y;
    udp_pair(&x, &y);
    struct iovec iov[3] = {{"ab", 2}, {"", 0}, {"cde", 3}};
    struct msghdr m = {.msg_iov = iov, .msg_iovlen = 3};
    EXPECT_EQ(sendmsg(x, &m, 0), 5);
    char b[8] = {0};
    EXPECT_EQ(recv(y, b, sizeof b, 0), 5);
    EXPECT_STREQ(b, "abcde");
}

CASE(sendmsg, msg_name_to_unconnected_udp) {
    int x = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    int y = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    struct sockaddr_in ya = bind_lo4(y);
    struct iovec iov = {"n", 1};
    struct msghdr m = {.msg_name = &ya, .msg_namelen = sizeof ya, .msg_iov = &iov,
                       .msg_iovlen = 1};
    EXPECT_EQ(sendmsg(x, &m, 0), 1);
    char b[2];
    EXPECT_EQ(recv(y, b, 2, 0), 1);
}

CASE(sendmsg, bad_iov_efault_and_too_many_emsgsize) {
    int x, y;
    udp_pair(&x, &y);
    struct iovec iov = {(void *)8, 4};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    EXPECT_ERRNO(sendmsg(x, &m, 0), EFAULT);
    static struct iovec many[1025];
    for (int i = 0; i < 1025; i++)
        many[i] = (struct iovec){"a", 1};
    struct msghdr mm = {.msg_iov = many, .msg_iovlen = 1025};
    EXPECT_ERRNO(sendmsg(x, &mm, 0), EMSGSIZE);
    EXPECT_ERRNO(sendmsg(x, (struct msghdr *)8, 0), EFAULT);
}

CASE(sendmsg, ip_ttl_cmsg_per_message) {
    int x, y;
    udp_pair(&x, &y);
    set_int_opt(y, IPPROTO_IP, IP_RECVTTL, 1);
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof u);
    struct iovec iov = {"t", 1};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                       .msg_controllen = sizeof u.buf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = IPPROTO_IP;
    c->cmsg_type = IP_TTL;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    int ttl = 17;
    memcpy(CMSG_DATA(c), &ttl, sizeof ttl);
    EXPECT_EQ(sendmsg(x, &m, 0), 1);
    char b[2], cb[128];
    struct iovec riov = {b, sizeof b};
    struct msghdr r = {.msg_iov = &riov, .msg_iovlen = 1, .msg_control = cb,
                       .msg_controllen = sizeof cb};
    EXPECT_EQ(recvmsg(y, &r, 0), 1);
    struct cmsghdr *rc = CMSG_FIRSTHDR(&r);
    EXPECT_TRUE(rc && rc->cmsg_type == IP_TTL);
    int got;
    memcpy(&got, CMSG_DATA(rc), sizeof got);
    EXPECT_EQ(got, 17);
}

CASE(sendmsg, bad_cmsg_len_einval) {
    int x, y;
    udp_pair(&x, &y);
    char cb[CMSG_SPACE(sizeof(int))];
    memset(cb, 0, sizeof cb);
    struct iovec iov = {"t", 1};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cb,
                       .msg_controllen = sizeof cb};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = IPPROTO_IP;
    c->cmsg_type = IP_TTL;
    c->cmsg_len = sizeof cb + 64;
    EXPECT_ERRNO(sendmsg(x, &m, 0), EINVAL);
}

CASE(sendmmsg, three_udp_datagrams) {
    int x, y;
    udp_pair(&x, &y);
    struct iovec iov[3] = {{"one", 3}, {"two!", 4}, {"3", 1}};
    struct mmsghdr mm[3];
    memset(mm, 0, sizeof mm);
    for (int i = 0; i < 3; i++) {
        mm[i].msg_hdr.msg_iov = &iov[i];
        mm[i].msg_hdr.msg_iovlen = 1;
    }
    EXPECT_EQ(sendmmsg(x, mm, 3, 0), 3);
    EXPECT_EQ(mm[0].msg_len, 3);
    EXPECT_EQ(mm[1].msg_len, 4);
    EXPECT_EQ(mm[2].msg_len, 1);
    char b[8];
    EXPECT_EQ(recv(y, b, sizeof b, 0), 3);
    EXPECT_EQ(recv(y, b, sizeof b, 0), 4);
    EXPECT_EQ(recv(y, b, sizeof b, 0), 1);
}

CASE(sendmmsg, stops_at_the_first_failure) {
    int x = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    int y = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    struct sockaddr_in ya = bind_lo4(y);
    struct iovec iov = {"m", 1};
    struct mmsghdr mm[2];
    memset(mm, 0, sizeof mm);
    mm[0].msg_hdr = (struct msghdr){.msg_name = &ya, .msg_namelen = sizeof ya,
                                    .msg_iov = &iov, .msg_iovlen = 1};
    mm[1].msg_hdr = (struct msghdr){.msg_iov = &iov, .msg_iovlen = 1}; /* no address */
    EXPECT_EQ(sendmmsg(x, mm, 2, 0), 1);
    EXPECT_ERRNO(sendmmsg(x, &mm[1], 1, 0), EDESTADDRREQ);
}

CASE(sendmmsg, zero_vlen_and_bad_vector) {
    int x, y;
    udp_pair(&x, &y);
    struct mmsghdr mm;
    memset(&mm, 0, sizeof mm);
    EXPECT_EQ(sendmmsg(x, &mm, 0, 0), 0);
    EXPECT_ERRNO(sendmmsg(x, (struct mmsghdr *)8, 1, 0), EFAULT);
    EXPECT_ERRNO(sendmmsg(999, &mm, 1, 0), EBADF);
}

COVERS("sendmmsg")
CASE(recvmmsg, batch_from_sendmmsg_with_names) {
    int x, y;
    udp_pair(&x, &y);
    struct iovec iov[2] = {{"aa", 2}, {"bbb", 3}};
    struct mmsghdr out[2];
    memset(out, 0, sizeof out);
    for (int i = 0; i < 2; i++) {
        out[i].msg_hdr.msg_iov = &iov[i];
        out[i].msg_hdr.msg_iovlen = 1;
    }
    EXPECT_EQ(sendmmsg(x, out, 2, 0), 2);
    char b[2][8];
    struct iovec riov[2] = {{b[0], 8}, {b[1], 8}};
    struct sockaddr_in from[2];
    struct mmsghdr in[2];
    memset(in, 0, sizeof in);
    for (int i = 0; i < 2; i++)
        in[i].msg_hdr = (struct msghdr){.msg_name = &from[i], .msg_namelen = sizeof from[i],
                                        .msg_iov = &riov[i], .msg_iovlen = 1};
    EXPECT_EQ(recvmmsg(y, in, 2, MSG_DONTWAIT, NULL), 2);
    EXPECT_EQ(in[0].msg_len, 2);
    EXPECT_EQ(in[1].msg_len, 3);
    EXPECT_EQ(in[1].msg_hdr.msg_namelen, sizeof from[1]);
    EXPECT_EQ(from[1].sin_family, AF_INET);
}

CASE(getpeername, tcp_peer_address_and_port) {
    struct sockaddr_in a;
    int l = tcp_listener(&a);
    int c = (int)EXPECT_OK(socket(AF_INET, SOCK_STREAM, 0));
    EXPECT_OK(connect(c, (struct sockaddr *)&a, sizeof a));
    struct sockaddr_in p;
    socklen_t len = sizeof p;
    EXPECT_OK(getpeername(c, (struct sockaddr *)&p, &len));
    EXPECT_EQ(len, sizeof p);
    EXPECT_EQ(p.sin_port, a.sin_port);
    EXPECT_EQ(p.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
    int s = (int)EXPECT_OK(accept(l, NULL, NULL));
    struct sockaddr_in me, them;
    socklen_t ml = sizeof me, tl = sizeof them;
    EXPECT_OK(getsockname(c, (struct sockaddr *)&me, &ml));
    EXPECT_OK(getpeername(s, (struct sockaddr *)&them, &tl));
    EXPECT_EQ(me.sin_port, them.sin_port);
}

CASE(getpeername, unconnected_enotconn) {
    int t = (int)EXPECT_OK(socket(AF_INET, SOCK_STREAM, 0));
    int u = (int)EXPECT_OK(socket(AF_INET6, SOCK_DGRAM, 0));
    struct sockaddr_in6 p;
    socklen_t len = sizeof p;
    EXPECT_ERRNO(getpeername(t, (struct sockaddr *)&p, &len), ENOTCONN);
    EXPECT_ERRNO(getpeername(u, (struct sockaddr *)&p, &len), ENOTCONN);
    struct sockaddr_in a;
    int l = tcp_listener(&a);
    EXPECT_ERRNO(getpeername(l, (struct sockaddr *)&p, &len), ENOTCONN);
}

CASE(getpeername, udp_connected_and_disconnected) {
    int x, y;
    udp_pair(&x, &y);
    struct sockaddr_in p;
    socklen_t len = sizeof p;
    EXPECT_OK(getpeername(x, (struct sockaddr *)&p, &len));
    EXPECT_EQ(p.sin_family, AF_INET);
    struct sockaddr un = {.sa_family = AF_UNSPEC};
    EXPECT_OK(connect(x, &un, sizeof un));
    len = sizeof p;
    EXPECT_ERRNO(getpeername(x, (struct sockaddr *)&p, &len), ENOTCONN);
}

CASE(getpeername, bad_fd_and_pointers) {
    put_file("f", "x");
    int f = (int)EXPECT_OK(open("f", O_RDONLY));
    struct sockaddr_in p;
    socklen_t len = sizeof p;
    EXPECT_ERRNO(getpeername(f, (struct sockaddr *)&p, &len), ENOTSOCK);
    EXPECT_ERRNO(getpeername(999, (struct sockaddr *)&p, &len), EBADF);
    int c, s;
    tcp_pair(&c, &s);
    EXPECT_ERRNO(getpeername(c, (struct sockaddr *)&p, (socklen_t *)8), EFAULT);
    len = (socklen_t)-1;
    EXPECT_ERRNO(getpeername(c, (struct sockaddr *)&p, &len), EINVAL);
}

CASE(getpeername, ipv6_tcp_peer) {
    int l = (int)EXPECT_OK(socket(AF_INET6, SOCK_STREAM, 0));
    struct sockaddr_in6 a = lo6(0);
    socklen_t len = sizeof a;
    EXPECT_OK(bind(l, (struct sockaddr *)&a, sizeof a));
    EXPECT_OK(getsockname(l, (struct sockaddr *)&a, &len));
    EXPECT_OK(listen(l, 1));
    int c = (int)EXPECT_OK(socket(AF_INET6, SOCK_STREAM, 0));
    EXPECT_OK(connect(c, (struct sockaddr *)&a, sizeof a));
    struct sockaddr_in6 p;
    len = sizeof p;
    EXPECT_OK(getpeername(c, (struct sockaddr *)&p, &len));
    EXPECT_EQ(len, sizeof p);
    EXPECT_TRUE(IN6_IS_ADDR_LOOPBACK(&p.sin6_addr));
    EXPECT_EQ(p.sin6_port, a.sin6_port);
}

CASE(accept, tcp_returns_the_peer_address) {
    struct sockaddr_in a;
    int l = tcp_listener(&a);
    int c = (int)EXPECT_OK(socket(AF_INET, SOCK_STREAM, 0));
    EXPECT_OK(connect(c, (struct sockaddr *)&a, sizeof a));
    struct sockaddr_in p, me;
    socklen_t len = sizeof p, ml = sizeof me;
    int s = (int)EXPECT_OK(accept(l, (struct sockaddr *)&p, &len));
    EXPECT_EQ(len, sizeof p);
    EXPECT_OK(getsockname(c, (struct sockaddr *)&me, &ml));
    EXPECT_EQ(p.sin_port, me.sin_port);
    EXPECT_EQ(get_int_opt(s, SOL_SOCKET, SO_ACCEPTCONN), 0);
}

CASE(accept, not_listening_einval_and_udp_eopnotsupp) {
    int s = (int)EXPECT_OK(socket(AF_INET, SOCK_STREAM, 0));
    EXPECT_ERRNO(accept(s, NULL, NULL), EINVAL);
    int u = (int)EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0));
    EXPECT_ERRNO(accept(u, NULL, NULL), EOPNOTSUPP);
}

CASE(accept, nonblocking_eagain_and_inherits_no_flags) {
    struct sockaddr_in a;
    int l = tcp_listener(&a);
    EXPECT_OK(fcntl(l, F_SETFL, O_NONBLOCK));
    EXPECT_ERRNO(accept(l, NULL, NULL), EAGAIN);
    int c = (int)EXPECT_OK(socket(AF_INET, SOCK_STREAM, 0));
    EXPECT_OK(connect(c, (struct sockaddr *)&a, sizeof a));
    struct pollfd p = {l, POLLIN, 0};
    EXPECT_EQ(poll(&p, 1, 3000), 1);
    int s = (int)EXPECT_OK(accept(l, NULL, NULL));
    EXPECT_EQ(fcntl(s, F_GETFL) & O_NONBLOCK, 0);
    EXPECT_EQ(fcntl(s, F_GETFD), 0);
}

CASE(accept, options_inherited_from_listener) {
    struct sockaddr_in a;
    int l = (int)EXPECT_OK(socket(AF_INET, SOCK_STREAM, 0));
    set_int_opt(l, SOL_SOCKET, SO_KEEPALIVE, 1);
    set_int_opt(l, IPPROTO_TCP, TCP_NODELAY, 1);
    a = bind_lo4(l);
    EXPECT_OK(listen(l, 1));
    int c = (int)EXPECT_OK(socket(AF_INET, SOCK_STREAM, 0));
    EXPECT_OK(connect(c, (struct sockaddr *)&a, sizeof a));
    int s = (int)EXPECT_OK(accept(l, NULL, NULL));
    EXPECT_EQ(get_int_opt(s, SOL_SOCKET, SO_KEEPALIVE), 1);
    EXPECT_EQ(get_int_opt(s, IPPROTO_TCP, TCP_NODELAY), 1);
}

CASE(shutdown, tcp_wr_gives_the_peer_eof) {
    int c, s;
    tcp_pair(&c, &s);
    EXPECT_OK(shutdown(c, SHUT_WR));
    char b[2];
    EXPECT_EQ(read(s, b, 2), 0);
    EXPECT_EQ(write(s, "k", 1), 1);
    EXPECT_EQ(read(c, b, 2), 1);
}

CASE(shutdown, tcp_rd_then_read_returns_0) {
    int c, s;
    tcp_pair(&c, &s);
    EXPECT_OK(shutdown(s, SHUT_RD));
    char b[2];
    EXPECT_EQ(read(s, b, 2), 0);
}

CASE(shutdown, bad_how_and_unconnected) {
    int c, s;
    tcp_pair(&c, &s);
    EXPECT_ERRNO(shutdown(c, 3), EINVAL);
    int t = (int)EXPECT_OK(socket(AF_INET, SOCK_STREAM, 0));
    EXPECT_ERRNO(shutdown(t, SHUT_RDWR), ENOTCONN);
}

CASE(connect, udp_af_unspec_disconnects) {
    int x, y;
    udp_pair(&x, &y);
    struct sockaddr un = {.sa_family = AF_UNSPEC};
    EXPECT_OK(connect(x, &un, sizeof un));
    EXPECT_ERRNO(send(x, "x", 1, 0), EDESTADDRREQ);
}

CASE(connect, tcp_already_connected_eisconn) {
    struct sockaddr_in a;
    int l = tcp_listener(&a);
    int c = (int)EXPECT_OK(socket(AF_INET, SOCK_STREAM, 0));
    EXPECT_OK(connect(c, (struct sockaddr *)&a, sizeof a));
    EXPECT_ERRNO(connect(c, (struct sockaddr *)&a, sizeof a), EISCONN);
    (void)l;
}

CASE(connect, nonblocking_tcp_completes) {
    struct sockaddr_in a;
    int l = tcp_listener(&a);
    int c = (int)EXPECT_OK(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
    int r = connect(c, (struct sockaddr *)&a, sizeof a);
    if (r != 0) {
        EXPECT_EQ(errno, EINPROGRESS);
        struct pollfd p = {c, POLLOUT, 0};
        EXPECT_EQ(poll(&p, 1, 3000), 1);
    }
    EXPECT_EQ(get_int_opt(c, SOL_SOCKET, SO_ERROR), 0);
    struct sockaddr_in p;
    socklen_t len = sizeof p;
    EXPECT_OK(getpeername(c, (struct sockaddr *)&p, &len));
    EXPECT_EQ(p.sin_port, a.sin_port);
    (void)l;
}

CASE(socket, inet_type_and_protocol_errors) {
    EXPECT_ERRNO(socket(AF_INET, SOCK_STREAM, IPPROTO_UDP), EPROTONOSUPPORT);
    EXPECT_ERRNO(socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP), EPROTONOSUPPORT);
    EXPECT_ERRNO(socket(AF_INET, 77, 0), EINVAL);
    EXPECT_ERRNO(socket(AF_INET, SOCK_STREAM | 0x1000, 0), EINVAL);
}

CASE(socket, inet_nonblock_cloexec_flags) {
    int s = (int)EXPECT_OK(socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    EXPECT_EQ(fcntl(s, F_GETFD), FD_CLOEXEC);
    EXPECT_TRUE(fcntl(s, F_GETFL) & O_NONBLOCK);
    EXPECT_EQ(get_int_opt(s, SOL_SOCKET, SO_TYPE), SOCK_DGRAM);
}

CASE(listen, tcp_relisten_changes_backlog) {
    struct sockaddr_in a;
    int l = tcp_listener(&a);
    EXPECT_OK(listen(l, 1));
    EXPECT_OK(listen(l, 128));
    int c, s;
    tcp_pair(&c, &s);
    EXPECT_ERRNO(listen(c, 1), EINVAL);
}
