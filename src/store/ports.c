/*
 * ports.c - port authorisations (see ports.h), in the SQL both backends run.
 */
#include "store/ports.h"

#include "core/errors.h"
#include "store/backend.h"
#include "store/sql.h"

static const char port_put_sql[] =
    "INSERT INTO ports(number, donor, recipient, tenure, at) VALUES ($1, $2, $3, $4, $5) "
    "ON CONFLICT(number) DO UPDATE SET donor = excluded.donor, recipient = excluded.recipient, "
    "tenure = excluded.tenure, at = excluded.at";
static const char port_get_sql[] =
    "SELECT donor, recipient, tenure, at FROM ports WHERE number = $1";
static const char port_clear_sql[] = "DELETE FROM ports WHERE number = $1";

static const sn_sql_map port_map =
    SN_SQL_MAP(sn_port, SQL_COL_INT(sn_port, donor), SQL_COL_INT(sn_port, recipient),
               SQL_COL_INT(sn_port, tenure), SQL_COL_INT(sn_port, at));

int sn_store_port_authorize(sn_store *s, sn_number n, const sn_port *p, char *err, size_t errlen)
{
    s->any_ports = 1;
    return sn_sql_write(s, port_put_sql,
                        SQL_ARGS(SQL_INT(n), SQL_INT(p->donor), SQL_INT(p->recipient),
                                 SQL_INT(p->tenure), SQL_INT(p->at)),
                        NULL, "authorise a port", err, errlen);
}

int sn_store_port_get(sn_store *s, sn_number n, sn_port *out, char *err, size_t errlen)
{
    return sn_sql_get(s, port_get_sql, SQL_ARGS(SQL_INT(n)), &port_map, out, "read a port", err,
                      errlen, NULL);
}

int sn_store_port_clear(sn_store *s, sn_number n, char *err, size_t errlen)
{
    /* read at begin under the writer's lock: no authorisation, nothing to clear */
    if (s->in_tx && !s->side_writer && !s->any_ports)
        return SN_OK;
    return sn_sql_write(s, port_clear_sql, SQL_ARGS(SQL_INT(n)), NULL, "clear a port", err, errlen);
}
