package io.github.openailb.core;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;

import io.github.openailb.testsupport.MutableClock;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Quota-aware routing: headroom reports, the headroom strategy, client-side budgets.
 */
class QuotaRoutingTests {

	private final MutableClock clock = new MutableClock();

	@Test
	void headroomIsReadFromTheHeadersWithItsResetWindow() {
		Headroom headroom = Headroom.read(headers("x-ratelimit-remaining-requests", "30", "x-ratelimit-limit-requests",
				"120", "x-ratelimit-remaining-tokens", "5000", "x-ratelimit-limit-tokens", "10000",
				"x-ratelimit-reset-tokens", "6s"), 1_000);
		assertThat(headroom.share()).isEqualTo(0.25);
		assertThat(headroom.isFresh(6_999)).isTrue();
		assertThat(headroom.isFresh(7_000)).isFalse();
	}

	@Test
	void missingOrGarbageHeadersMeanUnknownNotEmpty() {
		assertThat(Headroom.read(headers(), 0)).isNull();
		assertThat(Headroom.read(headers("x-ratelimit-remaining-tokens", "lots"), 0)).isNull();
		Headroom partial = Headroom.read(headers("x-ratelimit-remaining-tokens", "-5", "x-ratelimit-remaining-requests",
				"7"), 0);
		assertThat(partial.remainingTokens()).isEqualTo(-1);
		assertThat(partial.share()).isEqualTo(-1);
		assertThat(partial.cannotTake(1_000_000)).isFalse();
		assertThat(partial.isFresh(Headroom.DEFAULT_VALIDITY - 1)).isTrue();
	}

	@Test
	void tokenEstimateCountsPromptAndRequestedCompletion() {
		byte[] body = "{\"messages\":[{\"role\":\"user\",\"content\":\"hello there\"}],\"max_tokens\": 500}"
			.getBytes(StandardCharsets.UTF_8);
		assertThat(TokenEstimate.of(body)).isEqualTo(body.length / 4 + 500);
		byte[] newer = "{\"max_completion_tokens\":1200}".getBytes(StandardCharsets.UTF_8);
		assertThat(TokenEstimate.of(newer)).isEqualTo(newer.length / 4 + 1200);
		assertThat(TokenEstimate.of(new byte[0])).isZero();
		assertThat(TokenEstimate.of("{\"max_tokens\":\"x\"}".getBytes(StandardCharsets.UTF_8))).isEqualTo(4);
	}

	@Test
	void backendThatReportedTooFewTokensIsPassedOverUntilItsReset() {
		LoadBalancer balancer = balancer(Strategy.HEADROOM, backend("ptu", 1), backend("paygo", 2));
		Backend ptu = balancer.backend("ptu");
		answer(balancer.begin(100), "x-ratelimit-remaining-tokens", "300", "x-ratelimit-reset-tokens", "10s");
		assertThat(first(balancer.begin(1_000))).isEqualTo("paygo");
		assertThat(first(balancer.begin(100))).isEqualTo("ptu");
		this.clock.advance(Duration.ofSeconds(11));
		assertThat(first(balancer.begin(1_000))).isEqualTo("ptu");
		assertThat(ptu.state()).isEqualTo(BackendState.AVAILABLE);
	}

	@Test
	void backendWithoutQuotaIsStillUsedWhenNothingElseIsLeft() {
		LoadBalancer balancer = balancer(Strategy.HEADROOM, backend("only", 1));
		answer(balancer.begin(10), "x-ratelimit-remaining-requests", "0", "x-ratelimit-reset-requests", "30s");
		assertThat(first(balancer.begin(10))).isEqualTo("only");
	}

	@Test
	void weightedStrategyKeepsSendingUntilTheBackendAnswers429() {
		LoadBalancer balancer = balancer(Strategy.WEIGHTED, backend("ptu", 1), backend("paygo", 2));
		answer(balancer.begin(100), "x-ratelimit-remaining-tokens", "0", "x-ratelimit-reset-tokens", "10s");
		assertThat(first(balancer.begin(1_000))).isEqualTo("ptu");
	}

	@Test
	void headroomStrategyFavoursTheBackendWithMoreQuotaLeft() {
		LoadBalancer balancer = balancer(Strategy.HEADROOM, backend("a", 1), backend("b", 1));
		report(balancer, "a", "10", "100");
		report(balancer, "b", "90", "100");
		Map<String, Integer> picks = pick(balancer, 10_000);
		// expected share 0.9 for b; with this seed the split is far from either bound
		assertThat(picks.get("b")).isBetween(8_500, 9_500);
	}

	@Test
	void weightedStrategyIgnoresHeadroom() {
		LoadBalancer balancer = balancer(Strategy.WEIGHTED, backend("a", 1), backend("b", 1));
		report(balancer, "a", "10", "100");
		report(balancer, "b", "90", "100");
		assertThat(pick(balancer, 10_000).get("b")).isBetween(4_500, 5_500);
	}

	@Test
	void staleHeadroomIsIgnored() {
		LoadBalancer balancer = balancer(Strategy.HEADROOM, backend("a", 1), backend("b", 1));
		report(balancer, "a", "1", "100");
		report(balancer, "b", "100", "100");
		this.clock.advance(Duration.ofSeconds(61));
		assertThat(pick(balancer, 10_000).get("a")).isBetween(4_500, 5_500);
	}

	@Test
	void clientSideBudgetSpillsOverBeforeTheFirst429AndRefillsNextMinute() {
		LoadBalancer balancer = balancer(Strategy.WEIGHTED,
				new BalancerConfig.BackendBuilder().name("small").url("http://small").rpm(3),
				backend("big", 2));
		Map<String, Integer> picks = pick(balancer, 5);
		assertThat(picks).containsEntry("small", 3).containsEntry("big", 2);
		this.clock.advance(Duration.ofMinutes(1));
		assertThat(first(balancer.begin(0))).isEqualTo("small");
	}

	@Test
	void tokensPerMinuteBudgetCountsEstimatedTokens() {
		LoadBalancer balancer = balancer(Strategy.WEIGHTED,
				new BalancerConfig.BackendBuilder().name("small").url("http://small").tpm(1_000),
				backend("big", 2));
		assertThat(first(balancer.begin(600))).isEqualTo("small");
		assertThat(first(balancer.begin(600))).isEqualTo("big");
		assertThat(first(balancer.begin(300))).isEqualTo("small");
	}

	private LoadBalancer balancer(Strategy strategy, BalancerConfig.BackendBuilder... backends) {
		BalancerConfig.Builder config = BalancerConfig.builder().strategy(strategy);
		for (BalancerConfig.BackendBuilder backend : backends) {
			config.backend(backend);
		}
		return LoadBalancer.builder(config.build()).clock(this.clock).random(new Random(7)).build();
	}

	private static BalancerConfig.BackendBuilder backend(String name, int priority) {
		return new BalancerConfig.BackendBuilder().name(name).url("http://" + name).priority(priority);
	}

	/** Send one request to its first choice, which answers 200 with these headers. */
	private static void answer(Exchange exchange, String... headers) {
		Step.Attempt attempt = (Step.Attempt) exchange.next();
		exchange.answered(attempt, 200, headers(headers), null);
	}

	private static void report(LoadBalancer balancer, String name, String remaining, String limit) {
		balancer.backend(name)
			.report(Headroom.read(headers("x-ratelimit-remaining-requests", remaining, "x-ratelimit-limit-requests",
					limit), balancer.clock().millis()));
	}

	private static String first(Exchange exchange) {
		Step.Attempt attempt = (Step.Attempt) exchange.next();
		exchange.answered(attempt, 200, (name) -> null, null);
		return attempt.backend().name();
	}

	private static Map<String, Integer> pick(LoadBalancer balancer, int times) {
		Map<String, Integer> picks = new HashMap<>();
		for (int i = 0; i < times; i++) {
			picks.merge(first(balancer.begin(0)), 1, Integer::sum);
		}
		return picks;
	}

	private static java.util.function.Function<String, String> headers(String... pairs) {
		Map<String, String> headers = new HashMap<>();
		for (int i = 0; i < pairs.length; i += 2) {
			headers.put(pairs[i], pairs[i + 1]);
		}
		return headers::get;
	}

}
