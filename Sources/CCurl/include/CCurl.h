// Typed shims around libcurl's C-variadic setters, which Swift cannot call.
// Every exported symbol carries the pf_curl_ prefix.
#ifndef PF_CCURL_H
#define PF_CCURL_H

#include <curl/curl.h>

typedef size_t (*pf_curl_data_callback)(char *ptr, size_t size, size_t nmemb, void *userdata);

CURLcode pf_curl_easy_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode pf_curl_easy_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode pf_curl_easy_setopt_pointer(CURL *handle, CURLoption option, void *value);
CURLcode pf_curl_easy_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value);
CURLcode pf_curl_easy_setopt_data_callback(CURL *handle, CURLoption option, pf_curl_data_callback callback);
CURLcode pf_curl_easy_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value);

CURLcode pf_curl_easy_getinfo_long(CURL *handle, CURLINFO info, long *value);
CURLcode pf_curl_easy_getinfo_double(CURL *handle, CURLINFO info, double *value);
CURLcode pf_curl_easy_getinfo_pointer(CURL *handle, CURLINFO info, void **value);

CURLMcode pf_curl_multi_setopt_long(CURLM *multi, CURLMoption option, long value);

/// The CURLMsg union is not importable as written; these read its fields.
CURLcode pf_curl_msg_result(const CURLMsg *message);

#endif
