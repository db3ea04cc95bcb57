package io.github.openailb.actuate;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import io.github.openailb.core.BalancerListener;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.search.RequiredSearch;
import org.junit.jupiter.api.Test;

import org.springframework.context.ApplicationContext;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;

class OpenAiLbMetricsTests {

	@Test
	void countsAScriptedSequence() {
		try (LoopbackBackends backends = new LoopbackBackends()) {
			WireMockServer a = backends.start();
			WireMockServer b = backends.start();
			a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(429).withHeader("Retry-After", "30")));
			b.stubFor(post(anyUrl()).willReturn(okJson("{}")));
			LoopbackBackends.contextRunner()
				.withPropertyValues(LoopbackBackends.backend(0, "a", a, 1))
				.withPropertyValues(LoopbackBackends.backend(1, "b", b, 2))
				.run((context) -> {
					assertThat(context).hasSingleBean(OpenAiLbMetrics.class);
					// a 429 then a 200: one failover, one cool-down, one answered request of two attempts
					assertThat(LoopbackBackends.call(context)).isEqualTo(200);
					assertThat(count(context, "openai.lb.attempts", "backend", "a", "outcome", "THROTTLED")).isOne();
					assertThat(count(context, "openai.lb.attempts", "backend", "b", "outcome", "SUCCESS")).isOne();
					assertThat(count(context, "openai.lb.failovers", "backend", "a", "outcome", "THROTTLED")).isOne();
					assertThat(count(context, "openai.lb.failovers", "backend", "b", "outcome", "THROTTLED")).isZero();
					assertThat(count(context, "openai.lb.cooldowns", "backend", "a")).isOne();
					assertThat(count(context, "openai.lb.cooldowns", "backend", "b")).isZero();
					assertThat(count(context, "openai.lb.requests", "ending", "ANSWERED")).isOne();
					assertThat(meters(context).name("openai.lb.attempt.latency").tag("backend", "a").timer().count())
						.isOne();
					assertThat(meters(context).name("openai.lb.request.attempts").summary().totalAmount())
						.isEqualTo(2);
					assertThat(gauge(context, "a", "COOLING_DOWN")).isOne();
					assertThat(gauge(context, "a", "AVAILABLE")).isZero();
					assertThat(gauge(context, "b", "AVAILABLE")).isOne();

					// a is cooling down: the next request goes straight to b
					assertThat(LoopbackBackends.call(context)).isEqualTo(200);
					assertThat(count(context, "openai.lb.attempts", "backend", "a", "outcome", "THROTTLED")).isOne();
					assertThat(count(context, "openai.lb.attempts", "backend", "b", "outcome", "SUCCESS")).isEqualTo(2);
					assertThat(count(context, "openai.lb.requests", "ending", "ANSWERED")).isEqualTo(2);
					assertThat(meters(context).name("openai.lb.request.attempts").summary().totalAmount())
						.isEqualTo(3);

					// b throttles too: the caller gets the synthetic 429
					b.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(429).withHeader("Retry-After", "5")));
					assertThat(LoopbackBackends.call(context)).isEqualTo(429);
					assertThat(count(context, "openai.lb.cooldowns", "backend", "b")).isOne();
					assertThat(count(context, "openai.lb.requests", "ending", "THROTTLED")).isOne();
					assertThat(count(context, "openai.lb.requests", "ending", "ANSWERED")).isEqualTo(2);
				});
		}
	}

	@Test
	void tryingTheSameBackendAgainAfterAWaitIsNoFailover() {
		try (LoopbackBackends backends = new LoopbackBackends()) {
			WireMockServer a = backends.start();
			a.stubFor(post(anyUrl()).inScenario("pause")
				.whenScenarioStateIs(Scenario.STARTED)
				.willReturn(aResponse().withStatus(429).withHeader("retry-after-ms", "50"))
				.willSetStateTo("answering"));
			a.stubFor(post(anyUrl()).inScenario("pause").whenScenarioStateIs("answering").willReturn(okJson("{}")));
			LoopbackBackends.contextRunner()
				.withPropertyValues(LoopbackBackends.backend(0, "a", a, 1))
				.withPropertyValues("openai.lb.max-wait=5s")
				.run((context) -> {
					assertThat(LoopbackBackends.call(context)).isEqualTo(200);
					assertThat(a.getAllServeEvents()).hasSize(2);
					assertThat(meters(context).name("openai.lb.request.attempts").summary().totalAmount())
						.isEqualTo(2);
					assertThat(count(context, "openai.lb.failovers", "backend", "a", "outcome", "THROTTLED")).isZero();
				});
		}
	}

	@Test
	void registersEveryMeterOfAKnownBackendUpFront() {
		try (LoopbackBackends backends = new LoopbackBackends()) {
			WireMockServer a = backends.start();
			LoopbackBackends.contextRunner()
				.withPropertyValues(LoopbackBackends.backend(0, "a", a, 1))
				.run((context) -> {
					assertThat(count(context, "openai.lb.attempts", "backend", "a", "outcome", "CLIENT_ERROR")).isZero();
					assertThat(count(context, "openai.lb.failovers", "backend", "a", "outcome", "FAILURE")).isZero();
					assertThat(count(context, "openai.lb.requests", "ending", "CANCELLED")).isZero();
					assertThat(count(context, "openai.lb.requests", "ending", "UNAVAILABLE")).isZero();
					assertThat(meters(context).name("openai.lb.attempt.latency").tag("backend", "a").timer().count())
						.isZero();
				});
		}
	}

	@Test
	void isTheEnginesListener() {
		try (LoopbackBackends backends = new LoopbackBackends()) {
			WireMockServer a = backends.start();
			LoopbackBackends.contextRunner()
				.withPropertyValues(LoopbackBackends.backend(0, "a", a, 1))
				.withBean("otherListener", BalancerListener.class, () -> new BalancerListener() {
				})
				.run((context) -> {
					a.stubFor(post(anyUrl()).willReturn(okJson("{}")));
					assertThat(LoopbackBackends.call(context)).isEqualTo(200);
					assertThat(count(context, "openai.lb.requests", "ending", "ANSWERED")).isOne();
				});
		}
	}

	@Test
	void tagsAttemptsAndCoolDownsWithTheDeploymentBoundedByConfiguration() {
		try (LoopbackBackends backends = new LoopbackBackends()) {
			WireMockServer a = backends.start();
			WireMockServer b = backends.start();
			a.stubFor(post(urlPathMatching(".*/chat-a/.*"))
				.willReturn(aResponse().withStatus(429).withHeader("Retry-After", "30")));
			a.stubFor(post(urlPathMatching(".*/emb-a/.*")).willReturn(okJson("{}")));
			a.stubFor(post(urlPathMatching("/prefix/openai/v1/.*")).willReturn(okJson("{}")));
			b.stubFor(post(anyUrl()).willReturn(okJson("{}")));
			LoopbackBackends.contextRunner()
				.withPropertyValues(LoopbackBackends.backend(0, "a", a, 1))
				.withPropertyValues("openai.lb.backends[0].deployments.gpt-4o=chat-a",
						"openai.lb.backends[0].deployments.emb=emb-a")
				.withPropertyValues(LoopbackBackends.backend(1, "b", b, 2))
				.withPropertyValues("openai.lb.backends[1].deployments.gpt-4o=chat-b")
				.run((context) -> {
					// up front: each backend's deployments and other, nothing for a model a backend does not map
					assertThat(count(context, "openai.lb.attempts", "backend", "b", "deployment", "gpt-4o", "outcome",
							"CLIENT_ERROR")).isZero();
					assertThat(count(context, "openai.lb.attempts", "backend", "b", "deployment", "other", "outcome",
							"SUCCESS")).isZero();
					assertThat(count(context, "openai.lb.deployment.cooldowns", "backend", "a", "deployment", "emb"))
						.isZero();
					assertThat(registry(context).find("openai.lb.attempts").tags("backend", "b", "deployment", "emb")
						.counters()).isEmpty();

					// a 429 on a's chat deployment cools that deployment only, chat goes on to b
					assertThat(LoopbackBackends.call(context, "gpt-4o")).isEqualTo(200);
					assertThat(count(context, "openai.lb.attempts", "backend", "a", "deployment", "gpt-4o", "outcome",
							"THROTTLED")).isOne();
					assertThat(count(context, "openai.lb.attempts", "backend", "b", "deployment", "gpt-4o", "outcome",
							"SUCCESS")).isOne();
					assertThat(count(context, "openai.lb.deployment.cooldowns", "backend", "a", "deployment", "gpt-4o"))
						.isOne();
					assertThat(count(context, "openai.lb.cooldowns", "backend", "a")).isZero();
					assertThat(meters(context).name("openai.lb.attempt.latency")
						.tags("backend", "a", "deployment", "gpt-4o")
						.timer()
						.count()).isOne();
					assertThat(deploymentGauge(context, "a", "gpt-4o", "COOLING_DOWN")).isOne();
					assertThat(deploymentGauge(context, "a", "emb", "AVAILABLE")).isOne();
					assertThat(deploymentGauge(context, "b", "gpt-4o", "AVAILABLE")).isOne();
					assertThat(gauge(context, "a", "AVAILABLE")).isOne();

					// embeddings keep going to a; a request naming no model counts as other
					assertThat(LoopbackBackends.call(context, "emb")).isEqualTo(200);
					assertThat(count(context, "openai.lb.attempts", "backend", "a", "deployment", "emb", "outcome",
							"SUCCESS")).isOne();
					assertThat(LoopbackBackends.call(context, "/openai/v1/chat/completions", "{\"messages\":[]}"))
						.isEqualTo(200);
					assertThat(count(context, "openai.lb.attempts", "backend", "a", "deployment", "other", "outcome",
							"SUCCESS")).isOne();

					// a model no backend serves: answered at once, no meter carries what the caller sent
					assertThat(LoopbackBackends.call(context, "made-up")).isEqualTo(404);
					assertThat(registry(context).find("openai.lb.attempts").tag("deployment", "made-up").counters())
						.isEmpty();
					assertThat(registry(context).find("openai.lb.attempts").counters())
						.extracting((counter) -> counter.getId().getTag("deployment"))
						.containsOnly("gpt-4o", "emb", "other");
				});
		}
	}

	@Test
	void besideOtherListenersStillSeesEachDeployment() {
		try (LoopbackBackends backends = new LoopbackBackends()) {
			WireMockServer a = backends.start();
			WireMockServer b = backends.start();
			a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(429).withHeader("Retry-After", "30")));
			b.stubFor(post(anyUrl()).willReturn(okJson("{}")));
			LoopbackBackends.contextRunner()
				.withPropertyValues(LoopbackBackends.backend(0, "a", a, 1))
				.withPropertyValues("openai.lb.backends[0].deployments.gpt-4o=chat-a")
				.withPropertyValues(LoopbackBackends.backend(1, "b", b, 2))
				.withBean("otherListener", BalancerListener.class, () -> new BalancerListener() {
				})
				.run((context) -> {
					assertThat(LoopbackBackends.call(context, "gpt-4o")).isEqualTo(200);
					assertThat(count(context, "openai.lb.attempts", "backend", "a", "deployment", "gpt-4o", "outcome",
							"THROTTLED")).isOne();
					assertThat(count(context, "openai.lb.deployment.cooldowns", "backend", "a", "deployment", "gpt-4o"))
						.isOne();
					// b has no map: it serves gpt-4o under that name, in a deployment state of its own
					assertThat(count(context, "openai.lb.attempts", "backend", "b", "deployment", "gpt-4o", "outcome",
							"SUCCESS")).isOne();
				});
		}
	}

	private static MeterRegistry registry(ApplicationContext context) {
		return context.getBean(MeterRegistry.class);
	}

	private static double deploymentGauge(ApplicationContext context, String backend, String model, String state) {
		return meters(context).name(OpenAiLbBackendStateMetrics.DEPLOYMENT_STATE)
			.tags("backend", backend, "deployment", model, "state", state)
			.gauge()
			.value();
	}

	private static RequiredSearch meters(ApplicationContext context) {
		return RequiredSearch.in(context.getBean(MeterRegistry.class));
	}

	private static double count(ApplicationContext context, String name, String... tags) {
		return meters(context).name(name).tags(tags).counter().count();
	}

	private static double gauge(ApplicationContext context, String backend, String state) {
		return meters(context).name("openai.lb.backend.state").tags("backend", backend, "state", state).gauge().value();
	}

}
