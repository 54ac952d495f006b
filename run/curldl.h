/* curldl.h - libcurl, loaded on first use (common/dynlib.h says why: it
 * and what it loads, nghttp2, libssh2, Kerberos, LDAP and the rest, cost
 * every process about 13 ms at start-up, and only a run with a remote
 * cache makes a request). run/curldl.c forwards the functions of curl.h
 * that run/remote.c calls; curl_easy_setopt and curl_easy_getinfo take
 * variable arguments, which cannot be forwarded as they are, so they come
 * as one function per argument type. */
#ifndef STRATA_RUN_CURLDL_H
#define STRATA_RUN_CURLDL_H

#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

CURLcode curldl_setopt_long(CURL *easy, CURLoption option, long value);
CURLcode curldl_setopt_ptr(CURL *easy, CURLoption option, const void *value);
CURLcode curldl_setopt_off(CURL *easy, CURLoption option, curl_off_t value);
CURLcode curldl_getinfo_long(CURL *easy, CURLINFO info, long *value);

#endif
