/* LD_PRELOAD shim that makes wrk (which has no client-certificate flag) present one: every OpenSSL
 * context the process creates gets the certificate chain and key named by BENCH_CLIENT_CERT and
 * BENCH_CLIENT_KEY. Built at bench time: cc -shared -fPIC -o shim.so client-cert-shim.c -ldl */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <openssl/ssl.h>

typedef SSL_CTX *(*ctx_new_fn)(const SSL_METHOD *);

SSL_CTX *SSL_CTX_new(const SSL_METHOD *method) {
  static ctx_new_fn real_new = NULL;
  if (real_new == NULL) real_new = (ctx_new_fn)dlsym(RTLD_NEXT, "SSL_CTX_new");
  if (real_new == NULL) return NULL;
  SSL_CTX *ctx = real_new(method);
  const char *cert = getenv("BENCH_CLIENT_CERT");
  const char *key = getenv("BENCH_CLIENT_KEY");
  if (ctx == NULL || cert == NULL || key == NULL) return ctx;
  /* Failing loudly beats a benchmark of handshake rejections. */
  if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx) != 1) {
    fprintf(stderr, "client-cert-shim: cannot load %s and %s\n", cert, key);
    exit(97);
  }
  return ctx;
}
