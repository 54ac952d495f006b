/* curldl.c - libcurl, loaded on first use (run/curldl.h, common/dynlib.h):
 * the functions run/remote.c calls, each forwarding to libcurl's own. */
#include "run/curldl.h"

#include "common/dynlib.h"

#ifndef STRATA_CURL_SONAME
#error "STRATA_CURL_SONAME: CMake defines it (the SONAME of the libcurl found)"
#endif

static dynlib_t lib = DYNLIB_INIT(STRATA_CURL_SONAME, "libcurl4");

DYNLIB_SLOT(curl_global_init);
CURLcode curl_global_init(long flags)
{
    return DYNLIB_CALL(lib, curl_global_init)(flags);
}

DYNLIB_SLOT(curl_easy_init);
CURL *curl_easy_init(void)
{
    return DYNLIB_CALL(lib, curl_easy_init)();
}

DYNLIB_SLOT(curl_easy_cleanup);
void curl_easy_cleanup(CURL *easy)
{
    DYNLIB_CALL(lib, curl_easy_cleanup)(easy);
}

DYNLIB_SLOT(curl_easy_strerror);
const char *curl_easy_strerror(CURLcode code)
{
    return DYNLIB_CALL(lib, curl_easy_strerror)(code);
}

DYNLIB_SLOT(curl_easy_setopt);
CURLcode curldl_setopt_long(CURL *easy, CURLoption option, long value)
{
    return DYNLIB_CALL(lib, curl_easy_setopt)(easy, option, value);
}

CURLcode curldl_setopt_ptr(CURL *easy, CURLoption option, const void *value)
{
    return DYNLIB_CALL(lib, curl_easy_setopt)(easy, option, value);
}

CURLcode curldl_setopt_off(CURL *easy, CURLoption option, curl_off_t value)
{
    return DYNLIB_CALL(lib, curl_easy_setopt)(easy, option, value);
}

DYNLIB_SLOT(curl_easy_getinfo);
CURLcode curldl_getinfo_long(CURL *easy, CURLINFO info, long *value)
{
    return DYNLIB_CALL(lib, curl_easy_getinfo)(easy, info, value);
}

DYNLIB_SLOT(curl_multi_init);
CURLM *curl_multi_init(void)
{
    return DYNLIB_CALL(lib, curl_multi_init)();
}

DYNLIB_SLOT(curl_multi_cleanup);
CURLMcode curl_multi_cleanup(CURLM *multi)
{
    return DYNLIB_CALL(lib, curl_multi_cleanup)(multi);
}

DYNLIB_SLOT(curl_multi_add_handle);
CURLMcode curl_multi_add_handle(CURLM *multi, CURL *easy)
{
    return DYNLIB_CALL(lib, curl_multi_add_handle)(multi, easy);
}

DYNLIB_SLOT(curl_multi_remove_handle);
CURLMcode curl_multi_remove_handle(CURLM *multi, CURL *easy)
{
    return DYNLIB_CALL(lib, curl_multi_remove_handle)(multi, easy);
}

DYNLIB_SLOT(curl_multi_perform);
CURLMcode curl_multi_perform(CURLM *multi, int *running)
{
    return DYNLIB_CALL(lib, curl_multi_perform)(multi, running);
}

DYNLIB_SLOT(curl_multi_poll);
CURLMcode curl_multi_poll(CURLM *multi, struct curl_waitfd extra_fds[], unsigned int extra_nfds,
                          int timeout_ms, int *ret)
{
    return DYNLIB_CALL(lib, curl_multi_poll)(multi, extra_fds, extra_nfds, timeout_ms, ret);
}

DYNLIB_SLOT(curl_multi_info_read);
CURLMsg *curl_multi_info_read(CURLM *multi, int *msgs_in_queue)
{
    return DYNLIB_CALL(lib, curl_multi_info_read)(multi, msgs_in_queue);
}

DYNLIB_SLOT(curl_slist_append);
struct curl_slist *curl_slist_append(struct curl_slist *list, const char *s)
{
    return DYNLIB_CALL(lib, curl_slist_append)(list, s);
}

DYNLIB_SLOT(curl_slist_free_all);
void curl_slist_free_all(struct curl_slist *list)
{
    DYNLIB_CALL(lib, curl_slist_free_all)(list);
}
