/* Unit tests for handoff: judging a received transfer. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "deadline.h"
#include "fdpass.h"
#include "frame.h"
#include "handoff.h"
#include "io.h"
#include "t.h"
#include "token.h"
#include "wire.h"

static const uint8_t tok_a[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
	14, 15, 16 };
static const uint8_t tok_b[16] = { 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5,
	4, 3, 2, 1 };

static void
offer_with(Rp__HandoffOffer *o, const uint8_t *tok, size_t len)
{
	rp__handoff_offer__init(o);
	o->token.data = (uint8_t *)(uintptr_t)tok;
	o->token.len = len;
	o->correlation_id = 9;
}

static void
test_replay_mode_accepts_each_token_once(void)
{
	struct rp_token_store *s = rp_token_store_new(16, 1000);
	Rp__HandoffOffer o;
	char buf[96];

	T_OK(s != NULL);
	offer_with(&o, tok_a, 16);
	T_OK(rp_handoff_judge(RP_FDPASS_OK, 1, tok_a, 16, &o, s,
	    RP_HANDOFF_REPLAY, 0, buf, sizeof(buf)) == NULL);
	T_STR(rp_handoff_judge(RP_FDPASS_OK, 1, tok_a, 16, &o, s,
	    RP_HANDOFF_REPLAY, 1, buf, sizeof(buf)),
	    "handoff token is not pending");
	offer_with(&o, tok_b, 16);
	T_OK(rp_handoff_judge(RP_FDPASS_OK, 1, tok_b, 16, &o, s,
	    RP_HANDOFF_REPLAY, 2, buf, sizeof(buf)) == NULL);
	/* Forgotten after its lifetime: a stranger again, accepted again. */
	offer_with(&o, tok_a, 16);
	T_OK(rp_handoff_judge(RP_FDPASS_OK, 1, tok_a, 16, &o, s,
	    RP_HANDOFF_REPLAY, 5000, buf, sizeof(buf)) == NULL);
	rp_token_store_free(s);
}

static void
test_expect_mode_takes_only_the_expected_token(void)
{
	struct rp_token_store *s = rp_token_store_new(4, 1000);
	Rp__HandoffOffer o;
	char buf[96];

	T_EQ(rp_token_store_expect(s, tok_a, 0), 0);
	offer_with(&o, tok_b, 16);
	T_STR(rp_handoff_judge(RP_FDPASS_OK, 1, tok_b, 16, &o, s,
	    RP_HANDOFF_EXPECT, 0, buf, sizeof(buf)), "handoff token mismatch");
	offer_with(&o, tok_a, 16);
	T_OK(rp_handoff_judge(RP_FDPASS_OK, 1, tok_a, 16, &o, s,
	    RP_HANDOFF_EXPECT, 0, buf, sizeof(buf)) == NULL);
	T_STR(rp_handoff_judge(RP_FDPASS_OK, 1, tok_a, 16, &o, s,
	    RP_HANDOFF_EXPECT, 0, buf, sizeof(buf)),
	    "handoff token is not pending");
	rp_token_store_free(s);

	/* Raw: no offer, the sideband token is judged alone. */
	s = rp_token_store_new(4, 1000);
	T_EQ(rp_token_store_expect(s, tok_a, 0), 0);
	T_STR(rp_handoff_judge(RP_FDPASS_OK, 1, tok_a, 16, NULL, s,
	    RP_HANDOFF_EXPECT, 1000, buf, sizeof(buf)),
	    "handoff token expired");
	rp_token_store_free(s);
	s = rp_token_store_new(4, 1000);
	T_EQ(rp_token_store_expect(s, tok_a, 0), 0);
	T_OK(rp_handoff_judge(RP_FDPASS_OK, 1, tok_a, 16, NULL, s,
	    RP_HANDOFF_EXPECT, 999, buf, sizeof(buf)) == NULL);
	rp_token_store_free(s);
}

static void
test_shape_faults_come_first_and_consume_nothing(void)
{
	struct rp_token_store *s = rp_token_store_new(4, 1000);
	Rp__HandoffOffer o;
	uint8_t long_side[20] = { 0 };
	char buf[96];

	T_EQ(rp_token_store_expect(s, tok_a, 0), 0);
	offer_with(&o, tok_a, 16);
	T_STR(rp_handoff_judge(RP_FDPASS_NO_FD, 0, tok_a, 16, &o, s,
	    RP_HANDOFF_EXPECT, 0, buf, sizeof(buf)), "no fd in the message");
	T_STR(rp_handoff_judge(RP_FDPASS_TOO_MANY_FDS, 3, tok_a, 16, &o, s,
	    RP_HANDOFF_EXPECT, 0, buf, sizeof(buf)), "3 fds in one message");
	T_STR(rp_handoff_judge(RP_FDPASS_TRUNCATED, 8, tok_a, 16, &o, s,
	    RP_HANDOFF_EXPECT, 0, buf, sizeof(buf)),
	    "control message truncated (too many fds)");
	T_STR(rp_handoff_judge(RP_FDPASS_OK, 1, tok_a, 15, &o, s,
	    RP_HANDOFF_EXPECT, 0, buf, sizeof(buf)),
	    "handoff token length was 15 bytes; expected 16");
	T_STR(rp_handoff_judge(RP_FDPASS_OK, 1, long_side, 20, &o, s,
	    RP_HANDOFF_EXPECT, 0, buf, sizeof(buf)),
	    "handoff token length was 20 bytes; expected 16");
	T_STR(rp_handoff_judge(RP_FDPASS_OK, 1, tok_a, 0, &o, s,
	    RP_HANDOFF_EXPECT, 0, buf, sizeof(buf)),
	    "handoff token is missing");
	offer_with(&o, tok_a, 0);
	T_STR(rp_handoff_judge(RP_FDPASS_OK, 1, tok_a, 16, &o, s,
	    RP_HANDOFF_EXPECT, 0, buf, sizeof(buf)),
	    "handoff token is missing");
	offer_with(&o, long_side, 17);
	T_STR(rp_handoff_judge(RP_FDPASS_OK, 1, tok_a, 16, &o, s,
	    RP_HANDOFF_EXPECT, 0, buf, sizeof(buf)),
	    "handoff token length was 17 bytes; expected 16");
	/* The offer vouches for another token than the one with the fd. */
	offer_with(&o, tok_b, 16);
	T_STR(rp_handoff_judge(RP_FDPASS_OK, 1, tok_a, 16, &o, s,
	    RP_HANDOFF_EXPECT, 0, buf, sizeof(buf)), "handoff token mismatch");
	/* None of that used the expected token up. */
	offer_with(&o, tok_a, 16);
	T_OK(rp_handoff_judge(RP_FDPASS_OK, 1, tok_a, 16, &o, s,
	    RP_HANDOFF_EXPECT, 0, buf, sizeof(buf)) == NULL);
	rp_token_store_free(s);
}

static void
test_sideband_spill(void)
{
	uint8_t side[40];

	memset(side, 0xab, sizeof(side));
	side[16] = RP_FRAME_VERSION;
	T_UEQ(rp_handoff_sideband_spill(RP_FDPASS_NO_FD, side, 40), 24);
	T_UEQ(rp_handoff_sideband_spill(RP_FDPASS_NO_FD, side, 16), 0);
	T_UEQ(rp_handoff_sideband_spill(RP_FDPASS_NO_FD, side, 3), 0);
	/* With an fd, the offer may come in the same message: what follows
	 * the token is the offer when it starts as a frame does ... */
	T_UEQ(rp_handoff_sideband_spill(RP_FDPASS_OK, side, 40), 24);
	T_UEQ(rp_handoff_sideband_spill(RP_FDPASS_OK, side, 17), 1);
	T_UEQ(rp_handoff_sideband_spill(RP_FDPASS_OK, side, 16), 0);
	/* ... else the whole message is a (long) sideband. */
	side[16] = 0;
	T_UEQ(rp_handoff_sideband_spill(RP_FDPASS_OK, side, 40), 0);
	T_UEQ(rp_handoff_sideband_spill(RP_FDPASS_NO_FD, side, 40), 24);
	side[16] = RP_FRAME_VERSION;
	T_UEQ(rp_handoff_sideband_spill(RP_FDPASS_TOO_MANY_FDS, side, 40), 0);
	T_UEQ(rp_handoff_sideband_spill(RP_FDPASS_TRUNCATED, side, 40), 0);
}

/*
 * The sender's part against a receiver played by hand on a socketpair:
 * raw (token + fd only), the offer and an Ack (ours, another token, a
 * refusal), a receiver that hangs up before or after, one that is silent.
 */
static void
test_send(void)
{
	static const uint8_t tok[RP_TOKEN_LEN] = "0123456789abcdef";
	static const uint8_t other[RP_TOKEN_LEN] = "fedcba9876543210";
	struct rp_buf ack = { 0 };
	Rp__HandoffOffer *o;
	uint8_t side[64], *body;
	char detail[128];
	size_t got, len;
	uint64_t cid;
	pid_t pid;
	int sv[2], p[2], fd, round, status, r;
	const char *why;

	T_EQ(pipe(p), 0);
	/* raw: the fd and the token, nothing else. */
	T_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	T_EQ(rp_handoff_send(sv[0], p[1], tok, NULL, 1, 1,
	    rp_deadline_in(5000), detail, sizeof(detail)),
	    RP_HANDOFF_SENT_ACCEPTED);
	T_EQ(rp_fdpass_recv(sv[1], side, sizeof(side), &got, &fd,
	    NULL, rp_deadline_in(5000)), RP_FDPASS_OK);
	T_EQ(got, RP_TOKEN_LEN);
	T_MEM(side, tok, RP_TOKEN_LEN);
	close(fd);
	close(sv[0]);
	close(sv[1]);

	/* The offer, answered by a receiver in a child: accepted, with
	 * another token, refused, an Ack for another transfer. */
	for (round = 0; round < 4; round++) {
		T_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
		pid = fork();
		T_OK(pid >= 0);
		if (pid == 0) {
			close(sv[0]);
			if (rp_fdpass_recv(sv[1], side, sizeof(side), &got, &fd,
			    NULL, rp_deadline_in(5000)) != RP_FDPASS_OK ||
			    rp_frame_read(sv[1], 4096, rp_deadline_in(5000),
			    &body, &len) != RP_FRAME_OK ||
			    (o = rp_wire_offer_parse(body, len, &why)) == NULL ||
			    strcmp(o->service_name, "svc") != 0 ||
			    o->correlation_id == 0)
				_exit(1);
			cid = o->correlation_id + (round == 3);
			if (rp_wire_ack_encode(&ack, RP_KIND_RESPONSE, cid,
			    round == 1 ? other : tok, RP_TOKEN_LEN, round != 2,
			    round == 2 ? "not today" : NULL, cid) != 0 ||
			    rp_io_write_full(sv[1], ack.data, ack.len,
			    rp_deadline_in(5000)) != 0)
				_exit(1);
			_exit(0);
		}
		close(sv[1]);
		r = rp_handoff_send(sv[0], p[1], tok, "svc", 0, 1,
		    rp_deadline_in(5000), detail, sizeof(detail));
		T_EQ(r, round == 0 ? RP_HANDOFF_SENT_ACCEPTED :
		    round == 2 ? RP_HANDOFF_SENT_REJECTED :
		    RP_HANDOFF_SENT_MALFORMED);
		T_STR(detail, round == 0 ? "" :
		    round == 1 ? "the ack presents another token" :
		    round == 2 ? "not today" : "request_id does not match");
		T_EQ(waitpid(pid, &status, 0), pid);
		T_OK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		close(sv[0]);
	}

	/* Hung up before anything: closed, before the fd was sent. */
	T_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	close(sv[1]);
	T_EQ(rp_handoff_send(sv[0], p[1], tok, NULL, 0, 1,
	    rp_deadline_in(5000), detail, sizeof(detail)),
	    RP_HANDOFF_SENT_CLOSED);
	T_STR(detail, "before the fd was sent");
	close(sv[0]);
	/* Silent, then hung up after reading: timeout, then closed. */
	T_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	T_EQ(rp_handoff_send(sv[0], p[1], tok, NULL, 0, 1, rp_deadline_in(50),
	    detail, sizeof(detail)), RP_HANDOFF_SENT_TIMEOUT);
	T_EQ(shutdown(sv[1], SHUT_WR), 0);
	T_EQ(rp_handoff_send(sv[0], p[1], tok, NULL, 0, 1,
	    rp_deadline_in(5000), detail, sizeof(detail)),
	    RP_HANDOFF_SENT_CLOSED);
	T_STR(detail, "");
	close(sv[0]);
	close(sv[1]);
	close(p[0]);
	close(p[1]);
	rp_buf_free(&ack);
}

/* The Ack of an offer frame over the cap: request_id (and correlation_id)
 * from the scanned frame, or 0 when it was not read or is no Frame; the
 * sideband's token when it has the right length. */
static void
test_ack_too_large(void)
{
	uint8_t side[RP_TOKEN_LEN + 4], pad[9000];
	struct rp_buf ack = { 0 }, offer = { 0 };
	struct rp_framescan scan;
	Rp__HandoffAck *a;
	const char *why = NULL;

	memset(side, 0x5a, sizeof(side));
	memset(pad, 'p', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	T_EQ(rp_wire_offer_encode(&offer, side, RP_TOKEN_LEN, (char *)pad, 77,
	    0), 0);
	T_OK(offer.len > RP_FRAME_HEADER + RP_FRAME_SMALL_MAX);
	rp_framescan_init(&scan, (uint32_t)(offer.len - RP_FRAME_HEADER));
	T_UEQ(rp_framescan_feed(&scan, offer.data + RP_FRAME_HEADER,
	    offer.len - RP_FRAME_HEADER), offer.len - RP_FRAME_HEADER);
	T_EQ(rp_handoff_ack_too_large(&ack, &scan, side, RP_TOKEN_LEN), 0);
	a = rp_wire_ack_parse(ack.data + RP_FRAME_HEADER,
	    ack.len - RP_FRAME_HEADER, RP_KIND_RESPONSE, 1, 77, &why);
	T_OK(a != NULL);
	if (a != NULL) {
		T_EQ(a->accepted, 0);
		T_STR(a->error_detail, RP_HANDOFF_OFFER_TOO_LARGE);
		T_UEQ(a->correlation_id, 77);
		T_UEQ(a->token.len, RP_TOKEN_LEN);
		T_EQ(memcmp(a->token.data, side, RP_TOKEN_LEN), 0);
		rp_wire_free(a);
	}
	rp_framescan_free(&scan);
	/* Not read (past 16 MiB), and a sideband of the wrong length: no
	 * request_id, no token. */
	rp_buf_clear(&ack);
	T_EQ(rp_handoff_ack_too_large(&ack, NULL, side, RP_TOKEN_LEN + 4), 0);
	a = rp_wire_ack_parse(ack.data + RP_FRAME_HEADER,
	    ack.len - RP_FRAME_HEADER, RP_KIND_RESPONSE, 1, 0, &why);
	T_OK(a != NULL);
	if (a != NULL) {
		T_EQ(a->accepted, 0);
		T_UEQ(a->correlation_id, 0);
		T_UEQ(a->token.len, 0);
		rp_wire_free(a);
	}
	/* Read, but not a Frame: request_id 0 too. */
	rp_framescan_init(&scan, 3);
	T_UEQ(rp_framescan_feed(&scan, (const uint8_t *)"\xff\xff\xff", 3),
	    3);
	rp_buf_clear(&ack);
	T_EQ(rp_handoff_ack_too_large(&ack, &scan, side, RP_TOKEN_LEN), 0);
	a = rp_wire_ack_parse(ack.data + RP_FRAME_HEADER,
	    ack.len - RP_FRAME_HEADER, RP_KIND_RESPONSE, 1, 0, &why);
	T_OK(a != NULL);
	rp_wire_free(a);
	rp_framescan_free(&scan);
	rp_buf_free(&ack);
	rp_buf_free(&offer);
}

int
main(void)
{
	T_RUN(test_replay_mode_accepts_each_token_once);
	T_RUN(test_expect_mode_takes_only_the_expected_token);
	T_RUN(test_shape_faults_come_first_and_consume_nothing);
	T_RUN(test_sideband_spill);
	T_RUN(test_send);
	T_RUN(test_ack_too_large);
	return t_done();
}
