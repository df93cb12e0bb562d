/*
 * h_meta.c - what describes the service itself: GET /healthz (alive, and
 * how many numbers the serving index holds) and GET /openapi.yaml (the API
 * document compiled into the binary).
 */
#include "http/embedded.h"
#include "http/http.h"

#include <stdio.h>

void sn_h_healthz(sn_call *c)
{
    char body[64];
    int n = snprintf(body, sizeof(body), "{\"status\":\"ok\",\"numbers\":%zu}",
                     sn_numindex_count(c->svc->index));
    sn_reply_json(c, 200, body, (size_t)n);
}

void sn_h_openapi(sn_call *c)
{
    sn_reply(c, 200, "application/yaml", sn_openapi_yaml, sn_openapi_yaml_len);
}
