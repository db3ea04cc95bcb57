package io.github.openailb.restclient;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.http.Fault;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import io.github.openailb.autoconfigure.LoadBalancerCustomizer;
import io.github.openailb.autoconfigure.OpenAiLbAutoConfiguration;
import io.github.openailb.autoconfigure.OpenAiLbClientsAutoConfiguration;
import io.github.openailb.core.LoadBalancer;
import io.github.openailb.testsupport.BootLine;
import io.github.openailb.testsupport.LoopbackBackends;
import io.github.openailb.testsupport.MutableClock;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.util.StreamUtils;
import org.springframework.web.client.ResourceAccessException;
import org.springframework.web.client.RestClient;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * SPEC §2–§3 through the balanced {@link RestClient}, against real loopback backends. Ports
 * the scenarios of the Python original's test suite and adds transport faults.
 */
class BalancedRestClientTests {

	private static final String CHAT = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21";

	private static final String BODY = "{\"messages\":[{\"role\":\"user\",\"content\":\"h\u00e9llo\"}]}";

	@RegisterExtension
	final LoopbackBackends backends = new LoopbackBackends();

	private final MutableClock clock = new MutableClock();

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(BootLine.REST_CLIENT))
		.withConfiguration(AutoConfigurations.of(OpenAiLbAutoConfiguration.class, OpenAiLbClientsAutoConfiguration.class))
		.withPropertyValues("openai.lb.response-timeout=2s", "openai.lb.connect-timeout=1s")
		.withBean(LoadBalancerCustomizer.class, () -> (builder) -> builder.clock(this.clock)
			.circuitBreakers(CircuitBreakerRegistry.of(LoadBalancer.defaultBreakerConfig(this.clock))::circuitBreaker));

	@Test
	void higherPriorityTakesAllTraffic() {
		WireMockServer primary = ok(this.backends.start(), "primary");
		WireMockServer secondary = ok(this.backends.start(), "secondary");
		run((client) -> {
			for (int i = 0; i < 20; i++) {
				assertThat(call(client).body()).contains("primary");
			}
			assertThat(secondary.getAllServeEvents()).isEmpty();
		}, backend(0, "primary", primary, 1), backend(1, "secondary", secondary, 2));
	}

	@Test
	void equalWeightsSpreadAcrossTheTier() {
		WireMockServer a = ok(this.backends.start(), "a");
		WireMockServer b = ok(this.backends.start(), "b");
		run((client) -> {
			for (int i = 0; i < 400; i++) {
				call(client);
			}
			// binomial(400, 0.5): 100 is ten standard deviations below the mean
			assertThat(a.getAllServeEvents()).hasSizeGreaterThan(100);
			assertThat(b.getAllServeEvents()).hasSizeGreaterThan(100);
		}, backend(0, "a", a, 1), backend(1, "b", b, 1));
	}

	@Test
	void throttledBackendFailsOverAtOnceAndCoolsDown() {
		WireMockServer a = this.backends.start();
		a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(429).withHeader("Retry-After", "30")));
		WireMockServer b = ok(this.backends.start(), "b");
		run((client) -> {
			assertThat(call(client).body()).contains("b");
			assertThat(call(client).body()).contains("b");
			assertThat(a.getAllServeEvents()).hasSize(1);
			this.clock.advance(Duration.ofSeconds(31));
			a.resetAll();
			ok(a, "a");
			assertThat(call(client).body()).contains("a");
			assertThat(b.getAllServeEvents()).hasSize(2);
		}, backend(0, "a", a, 1), backend(1, "b", b, 2));
	}

	@Test
	void serverErrorsFailOver() {
		WireMockServer a = this.backends.start();
		a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(503)));
		WireMockServer b = this.backends.start();
		b.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(500)));
		WireMockServer c = ok(this.backends.start(), "c");
		run((client) -> assertThat(call(client).body()).contains("c"), backend(0, "a", a, 1), backend(1, "b", b, 2),
				backend(2, "c", c, 3));
	}

	@Test
	void everyBackendThrottledAnswers429WithTheSoonestRetryAfter() {
		WireMockServer a = this.backends.start();
		a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(429).withHeader("Retry-After", "40")));
		WireMockServer b = this.backends.start();
		b.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(429).withHeader("retry-after-ms", "6500")));
		run((client) -> {
			Answer answer = call(client);
			assertThat(answer.status()).isEqualTo(429);
			assertThat(answer.headers().getFirst(HttpHeaders.RETRY_AFTER)).isEqualTo("7");
			assertThat(answer.body()).contains("\"error\"").contains("retry after 7 seconds");
			// while both cool down, nothing reaches them
			assertThat(call(client).status()).isEqualTo(429);
			assertThat(a.getAllServeEvents()).hasSize(1);
			assertThat(b.getAllServeEvents()).hasSize(1);
		}, backend(0, "a", a, 1), backend(1, "b", b, 1));
	}

	@Test
	void everyBreakerOpenAnswers503UnavailableNot429() {
		WireMockServer a = this.backends.start();
		a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(500)));
		WireMockServer b = this.backends.start();
		b.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(502)));
		run((client) -> {
			// the default breakers open at 50% failures over at least 10 calls
			for (int i = 0; i < 10; i++) {
				assertThat(call(client).status()).isEqualTo(502);
			}
			this.clock.advance(Duration.ofMillis(4500));
			Answer answer = call(client);
			assertThat(answer.status()).isEqualTo(503);
			assertThat(answer.headers().getFirst("x-openai-lb")).isEqualTo("unavailable");
			// the next probe is due when the breakers' 30 s are over
			assertThat(answer.headers().getFirst(HttpHeaders.RETRY_AFTER)).isEqualTo("26");
			assertThat(answer.body()).contains("\"code\":\"service_unavailable\"")
				.contains("a: CIRCUIT_OPEN", "b: CIRCUIT_OPEN");
			assertThat(a.getAllServeEvents()).hasSize(10);
			assertThat(b.getAllServeEvents()).hasSize(10);
		}, backend(0, "a", a, 1), backend(1, "b", b, 2));
	}

	@Test
	void httpDateRetryAfterIsHonoured() {
		WireMockServer a = this.backends.start();
		String date = DateTimeFormatter.RFC_1123_DATE_TIME
			.format(this.clock.instant().plusSeconds(20).atOffset(ZoneOffset.UTC));
		a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(429).withHeader("Retry-After", date)));
		run((client) -> {
			Answer answer = call(client);
			assertThat(answer.status()).isEqualTo(429);
			assertThat(answer.headers().getFirst(HttpHeaders.RETRY_AFTER)).isEqualTo("20");
		}, backend(0, "a", a, 1));
	}

	@Test
	void lastRealAnswerIsReturnedWhenItWasNotA429() {
		WireMockServer a = this.backends.start();
		a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(429).withHeader("Retry-After", "5")));
		WireMockServer b = this.backends.start();
		b.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(502).withBody("bad gateway from b")));
		run((client) -> {
			Answer answer = call(client);
			assertThat(answer.status()).isEqualTo(502);
			assertThat(answer.body()).isEqualTo("bad gateway from b");
		}, backend(0, "a", a, 1), backend(1, "b", b, 2));
	}

	@Test
	void clientErrorIsReturnedUnchangedAfterExactlyOneCall() {
		WireMockServer a = this.backends.start();
		a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(400).withBody("{\"error\":{\"code\":\"content_filter\"}}")));
		WireMockServer b = ok(this.backends.start(), "b");
		run((client) -> {
			Answer answer = call(client);
			assertThat(answer.status()).isEqualTo(400);
			assertThat(answer.body()).contains("content_filter");
			assertThat(a.getAllServeEvents()).hasSize(1);
			assertThat(b.getAllServeEvents()).isEmpty();
		}, backend(0, "a", a, 1), backend(1, "b", b, 2));
	}

	@Test
	void unauthorizedBackendFailsOverAndIsMarkedMisconfigured() {
		WireMockServer a = this.backends.start();
		a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(401)));
		WireMockServer b = ok(this.backends.start(), "b");
		runInContext((context, client) -> {
			assertThat(call(client).body()).contains("b");
			LoadBalancer balancer = context.getBean(LoadBalancer.class);
			assertThat(balancer.backend("a").state()).hasToString("MISCONFIGURED");
			assertThat(balancer.backend("a").coolingDownUntil()).isNull();
		}, backend(0, "a", a, 1), backend(1, "b", b, 2));
	}

	@Test
	void eachBackendGetsItsOwnKeyPathPrefixAndTheSameBody() {
		WireMockServer a = this.backends.start();
		a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(500)));
		WireMockServer b = this.backends.start();
		b.stubFor(post(urlEqualTo("/ai" + CHAT)).willReturn(okJson("{\"from\":\"b\"}")));
		run((client) -> {
			Answer answer = call(client, (headers) -> headers.set("api-key", "caller-key"));
			assertThat(answer.body()).contains("b");
			a.verify(postRequestedFor(urlEqualTo(CHAT)).withHeader("api-key", equalTo("key-a")));
			b.verify(postRequestedFor(urlEqualTo("/ai" + CHAT)).withHeader("api-key", equalTo("key-b")));
			LoggedRequest first = a.getAllServeEvents().get(0).getRequest();
			LoggedRequest second = b.getAllServeEvents().get(0).getRequest();
			assertThat(second.getBody()).isEqualTo(first.getBody()).isEqualTo(BODY.getBytes(StandardCharsets.UTF_8));
			assertThat(second.getHeader("Host")).isEqualTo("localhost:" + b.port());
		}, backend(0, "a", a, 1), "openai.lb.backends[0].api-key=key-a", "openai.lb.backends[1].name=b",
				"openai.lb.backends[1].url=" + b.baseUrl() + "/ai/", "openai.lb.backends[1].priority=2",
				"openai.lb.backends[1].api-key=key-b");
	}

	@Test
	void deploymentIsRewrittenPerBackend() {
		WireMockServer a = this.backends.start();
		a.stubFor(post(anyUrl()).willReturn(okJson("{}")));
		run((client) -> {
			call(client);
			a.verify(postRequestedFor(
					urlEqualTo("/openai/deployments/gpt-4o-eastus/chat/completions?api-version=2024-10-21")));
		}, backend(0, "a", a, 1), "openai.lb.backends[0].deployment=gpt-4o-eastus");
	}

	@Test
	void refusedConnectionFailsOver() {
		WireMockServer b = ok(this.backends.start(), "b");
		run((client) -> assertThat(call(client).body()).contains("b"), "openai.lb.backends[0].name=down",
				"openai.lb.backends[0].url=" + LoopbackBackends.refusingUrl(), "openai.lb.backends[1].name=b",
				"openai.lb.backends[1].url=" + b.baseUrl(), "openai.lb.backends[1].priority=2");
	}

	@Test
	void slowBackendTimesOutAndFailsOver() {
		WireMockServer slow = this.backends.start();
		slow.stubFor(post(anyUrl()).willReturn(okJson("{\"from\":\"slow\"}").withFixedDelay(10_000)));
		WireMockServer b = ok(this.backends.start(), "b");
		run((client) -> assertThat(call(client).body()).contains("b"), backend(0, "slow", slow, 1),
				backend(1, "b", b, 2), "openai.lb.response-timeout=300ms");
	}

	@Test
	void connectionResetBeforeTheAnswerFailsOver() {
		WireMockServer a = this.backends.start();
		a.stubFor(post(anyUrl()).willReturn(aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER)));
		WireMockServer b = this.backends.start();
		b.stubFor(post(anyUrl()).willReturn(aResponse().withFault(Fault.EMPTY_RESPONSE)));
		WireMockServer c = ok(this.backends.start(), "c");
		run((client) -> assertThat(call(client).body()).contains("c"), backend(0, "a", a, 1), backend(1, "b", b, 2),
				backend(2, "c", c, 3));
	}

	@Test
	void noAnswerAtAllIsAClearErrorNamingTheBackends() {
		WireMockServer a = this.backends.start();
		a.stubFor(post(anyUrl()).willReturn(aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER)));
		run((client) -> assertThatExceptionOfType(ResourceAccessException.class).isThrownBy(() -> call(client))
			.withMessageContaining("no backend answered")
			.withMessageContaining("a:")
			.withMessageContaining("down:"), backend(0, "a", a, 1), "openai.lb.backends[1].name=down",
				"openai.lb.backends[1].url=" + LoopbackBackends.refusingUrl());
	}

	@Test
	void twoHundredConcurrentCallsAllEndInAnAnswer() throws Exception {
		WireMockServer a = this.backends.start();
		a.stubFor(post(anyUrl()).willReturn(okJson("{\"from\":\"a\"}").withFixedDelay(20)));
		WireMockServer b = ok(this.backends.start(), "b");
		run((client) -> {
			ExecutorService pool = Executors.newFixedThreadPool(50);
			try {
				List<Future<Answer>> answers = new ArrayList<>();
				for (int i = 0; i < 200; i++) {
					answers.add(pool.submit(() -> call(client)));
				}
				for (Future<Answer> answer : answers) {
					assertThat(answer.get().status()).isEqualTo(200);
				}
			}
			catch (Exception ex) {
				throw new IllegalStateException(ex);
			}
			finally {
				pool.shutdownNow();
			}
			// every call reached a backend; a loaded machine may add a failover, never lose a call
			assertThat(a.getAllServeEvents().size() + b.getAllServeEvents().size()).isGreaterThanOrEqualTo(200);
		}, backend(0, "a", a, 1), backend(1, "b", b, 1), "openai.lb.response-timeout=10s");
	}

	@Test
	void otherHostsAreNotBalanced() {
		WireMockServer a = ok(this.backends.start(), "a");
		WireMockServer elsewhere = ok(this.backends.start(), "elsewhere");
		runInContext((context, client) -> {
			RestClient plain = context.getBean(RestClient.Builder.class).build();
			String body = plain.post().uri(elsewhere.baseUrl() + "/anything").body("{}").retrieve().body(String.class);
			assertThat(body).contains("elsewhere");
			assertThat(a.getAllServeEvents()).isEmpty();
			// while a client from the same builder aimed at the logical host is balanced
			String balanced = context.getBean(RestClient.Builder.class)
				.baseUrl("http://openai-lb")
				.build()
				.post()
				.uri(CHAT)
				.body(BODY)
				.retrieve()
				.body(String.class);
			assertThat(balanced).contains("a");
		}, backend(0, "a", a, 1));
	}

	private void run(ClientAssertion assertion, Object... properties) {
		runInContext((context, client) -> assertion.check(client), properties);
	}

	private void runInContext(ContextAssertion assertion, Object... properties) {
		this.runner.withPropertyValues(flatten(properties)).run((context) -> {
			assertThat(context).hasNotFailed();
			assertion.check(context, context.getBean("openAiLbRestClient", RestClient.class));
		});
	}

	private static String[] backend(int index, String name, WireMockServer server, int priority) {
		String prefix = "openai.lb.backends[" + index + "].";
		return new String[] { prefix + "name=" + name, prefix + "url=" + server.baseUrl(),
				prefix + "priority=" + priority };
	}

	private static String[] flatten(Object... parts) {
		List<String> all = new ArrayList<>();
		for (Object part : parts) {
			if (part instanceof String[] many) {
				all.addAll(List.of(many));
			}
			else {
				all.add((String) part);
			}
		}
		return all.toArray(String[]::new);
	}

	private static WireMockServer ok(WireMockServer server, String name) {
		server.stubFor(post(anyUrl()).willReturn(okJson("{\"from\":\"" + name + "\"}")));
		return server;
	}

	private static Answer call(RestClient client) {
		return call(client, (headers) -> {
		});
	}

	private static Answer call(RestClient client, java.util.function.Consumer<HttpHeaders> headers) {
		return client.post()
			.uri(CHAT)
			.contentType(MediaType.APPLICATION_JSON)
			.headers(headers)
			.body(BODY)
			.exchange((request, response) -> new Answer(response.getStatusCode().value(), response.getHeaders(),
					StreamUtils.copyToString(response.getBody(), StandardCharsets.UTF_8)));
	}

	record Answer(int status, HttpHeaders headers, String body) {
	}

	@FunctionalInterface
	interface ClientAssertion {

		void check(RestClient client) throws Exception;

	}

	@FunctionalInterface
	interface ContextAssertion {

		void check(AssertableApplicationContext context, RestClient client) throws Exception;

	}

}
