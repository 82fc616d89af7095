/*
 * LD_PRELOAD shim for tests: getaddrinfo() of one host name sleeps first, as a slow DNS server
 * would make it. The name and the delay are read when the library is loaded, because NGINX
 * clears its workers' environment.
 *
 *   GIST_SLOW_DNS_HOST=localhost GIST_SLOW_DNS_SECONDS=8 LD_PRELOAD=slow_getaddrinfo.so nginx ...
 */

#define _GNU_SOURCE
#include <dlfcn.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef int (*getaddrinfo_fn)(const char *, const char *, const struct addrinfo *,
                              struct addrinfo **);

static char          slow_host[256];
static unsigned int  slow_seconds = 8;

__attribute__((constructor)) static void
slow_dns_init(void)
{
    const char  *host = getenv("GIST_SLOW_DNS_HOST");
    const char  *seconds = getenv("GIST_SLOW_DNS_SECONDS");

    if (host != NULL) {
        strncpy(slow_host, host, sizeof(slow_host) - 1);
    }

    if (seconds != NULL) {
        slow_seconds = (unsigned int) atoi(seconds);
    }
}

int
getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
    struct addrinfo **res)
{
    getaddrinfo_fn  real = (getaddrinfo_fn) dlsym(RTLD_NEXT, "getaddrinfo");

    if (node != NULL && slow_host[0] != '\0' && strcmp(node, slow_host) == 0) {
        sleep(slow_seconds);
    }

    return real(node, service, hints, res);
}
