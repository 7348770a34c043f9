/* fixmux_main: the once-a-second summary line and the --stats-file JSON (control path). */
#include <inttypes.h>
#include <stdio.h>

#include "fmx_app.h"

unsigned fmx_users_online(const struct fmx_app *a)
{
	unsigned n = 0;
	for (uint32_t u = 0; u < a->cfg->n_users; u++)
		for (uint32_t s = 0; s < a->cfg->n_sessions; s++)
			n += ctl_mux_user_online(a->mux, u, s);
	return n;
}

unsigned fmx_venues_up(const struct fmx_app *a)
{
	unsigned n = 0;
	for (uint32_t s = 0; s < a->cfg->n_sessions; s++)
		n += ctl_mux_venue_state(a->mux, s) == CTL_VS_UP;
	return n;
}

void fmx_stats_line(struct fmx_app *a)
{
	const struct ctl_mux *m = a->mux;
	printf("fixmux: %" PRIu64 "s sessions up %u/%u, users online %u, connections %u, "
	       "user->venue %" PRIu64 "/%" PRIu64 ", venue->user %" PRIu64 "/%" PRIu64
	       ", refused %" PRIu64 "\n",
	       (a->now_us - a->start_us) / 1000000u, fmx_venues_up(a), a->cfg->n_sessions,
	       fmx_users_online(a), fmx_client_conns(a), ctl_mux_counter(m, CTL_MUX_CLIENT_MSGS_IN),
	       ctl_mux_counter(m, CTL_MUX_FORWARDED_TO_VENUE),
	       ctl_mux_counter(m, CTL_MUX_VENUE_MSGS_IN),
	       ctl_mux_counter(m, CTL_MUX_FORWARDED_TO_USER),
	       ctl_mux_counter(m, CTL_MUX_LOGONS_REFUSED));
	fflush(stdout);
}

/* The multiplexer's counters under their ctl_mux_counter_names, the process's own, the
 * gauges, and stats_seq (grows with every rewrite, so a reader can wait for a file written
 * after some event). Written to F.tmp, then renamed: readers never see half a file. */
void fmx_stats_write(struct fmx_app *a)
{
	if (a->stats_file == NULL)
		return;
	char tmp[CTL_PATH_MAX + 8];
	snprintf(tmp, sizeof(tmp), "%s.tmp", a->stats_file);
	FILE *f = fopen(tmp, "w");
	if (f == NULL)
		return;
	fprintf(f, "{\n");
	for (int i = 0; i < CTL_MUX__COUNTERS; i++)
		fprintf(f, "  \"%s\": %" PRIu64 ",\n", ctl_mux_counter_names[i],
			ctl_mux_counter(a->mux, (enum ctl_mux_counter)i));
	for (unsigned i = 0; i < FMX_ALL_COUNTERS; i++)
		fprintf(f, "  \"%s\": %" PRIu64 ",\n", fmx_counter_names[i], fmx_counter(a, i));
	/* Each stack's counters under "<side>_<counter>" (side: client, venue or shared). */
	for (unsigned s = 0; s < a->n_sides; s++) {
		uint64_t sc[DP_CTR_COUNT];
		dp_stack_counters(a->sides[s].st, sc);
		for (int i = 0; i < DP_CTR_COUNT; i++)
			fprintf(f, "  \"%s_%s\": %" PRIu64 ",\n", a->sides[s].what,
				dp_stack_counter_names[i], sc[i]);
	}
	fprintf(f, "  \"venue_sessions_up\": %u,\n  \"users_online\": %u,\n"
		   "  \"client_connections\": %u,\n  \"shutdown_timed_out\": %s,\n"
		   "  \"stats_seq\": %" PRIu64 "\n}\n",
		fmx_venues_up(a), fmx_users_online(a), fmx_client_conns(a),
		a->shutdown_timed_out ? "true" : "false", ++a->stats_seq);
	fclose(f);
	rename(tmp, a->stats_file);
}
