package io.github.openailb.transport;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import com.github.tomakehurst.wiremock.WireMockServer;
import io.github.openailb.autoconfigure.OpenAiLbAutoConfiguration;
import io.github.openailb.autoconfigure.OpenAiLbClientsAutoConfiguration;
import io.github.openailb.core.LoadBalancer;
import io.github.openailb.testsupport.BootLine;
import io.github.openailb.testsupport.RawBackend;
import io.github.openailb.testsupport.LoopbackBackends;
import io.github.openailb.testsupport.ScriptedBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.core.ParameterizedTypeReference;
import org.springframework.http.MediaType;
import org.springframework.http.codec.ServerSentEvent;
import org.springframework.web.reactive.function.client.WebClient;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * SPEC §3–§4 through the balanced {@link WebClient}: non-blocking failover and waits, and
 * event streams that fail over only before their first byte.
 */
class BalancedWebClientTests {

	private static final String CHAT = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21";

	private static final ParameterizedTypeReference<ServerSentEvent<String>> EVENT = new ParameterizedTypeReference<>() {
	};

	@RegisterExtension
	final LoopbackBackends backends = new LoopbackBackends();

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(BootLine.WEB_CLIENT))
		.withConfiguration(AutoConfigurations.of(OpenAiLbAutoConfiguration.class, OpenAiLbClientsAutoConfiguration.class))
		.withPropertyValues("openai.lb.response-timeout=2s", "openai.lb.connect-timeout=1s");

	@Test
	void streamFailsOverFromAThrottledBackendBeforeTheFirstEvent() throws Exception {
		WireMockServer a = this.backends.start();
		a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(429).withHeader("Retry-After", "10")));
		try (ScriptedBackend b = new ScriptedBackend((exchange, self) -> {
			ScriptedBackend.startEventStream(exchange);
			ScriptedBackend.event(exchange.getResponseBody(), "one");
			ScriptedBackend.event(exchange.getResponseBody(), "[DONE]");
		})) {
			this.runner.withPropertyValues(backend(0, "a", a.baseUrl(), 1))
				.withPropertyValues(backend(1, "b", b.url(), 2))
				.run((context) -> {
					List<String> data = stream(client(context)).map(ServerSentEvent::data).collectList().block();
					assertThat(data).containsExactly("one", "[DONE]");
					assertThat(b.requests()).isEqualTo(1);
				});
		}
	}

	@Test
	void streamReachesTheCallerBeforeTheBackendHasFinished() throws Exception {
		CountDownLatch firstEventSeen = new CountDownLatch(1);
		try (ScriptedBackend a = new ScriptedBackend((exchange, self) -> {
			ScriptedBackend.startEventStream(exchange);
			ScriptedBackend.event(exchange.getResponseBody(), "first");
			// the rest is only sent once the caller has the first event: a buffering client would
			// never see it and the await below would fail
			if (firstEventSeen.await(10, TimeUnit.SECONDS)) {
				ScriptedBackend.event(exchange.getResponseBody(), "second");
			}
		})) {
			this.runner.withPropertyValues(backend(0, "a", a.url(), 1)).run((context) -> {
				StepVerifier.create(stream(client(context)).map(ServerSentEvent::data))
					.expectNext("first")
					.then(firstEventSeen::countDown)
					.expectNext("second")
					.verifyComplete();
			});
		}
	}

	@Test
	void streamThatStallsBeforeItsFirstByteFailsOver() throws Exception {
		try (ScriptedBackend stalled = new ScriptedBackend((exchange, self) -> {
			ScriptedBackend.startEventStream(exchange);
			exchange.getResponseBody().flush();
			self.stallUntilClosed();
		}); ScriptedBackend b = new ScriptedBackend((exchange, self) -> {
			ScriptedBackend.startEventStream(exchange);
			ScriptedBackend.event(exchange.getResponseBody(), "from-b");
		})) {
			this.runner.withPropertyValues("openai.lb.response-timeout=300ms")
				.withPropertyValues(backend(0, "stalled", stalled.url(), 1))
				.withPropertyValues(backend(1, "b", b.url(), 2))
				.run((context) -> {
					List<String> data = stream(client(context)).map(ServerSentEvent::data).collectList().block();
					assertThat(data).containsExactly("from-b");
					assertThat(stalled.requests()).isEqualTo(1);
				});
		}
	}

	@Test
	void streamCutAfterItStartedIsAnErrorAndIsNotReplayed() throws Exception {
		try (RawBackend a = new RawBackend(RawBackend::cutAfterOneEvent); ScriptedBackend b = new ScriptedBackend((exchange, self) -> {
			ScriptedBackend.startEventStream(exchange);
			ScriptedBackend.event(exchange.getResponseBody(), "never");
		})) {
			this.runner.withPropertyValues(backend(0, "a", a.url(), 1))
				.withPropertyValues(backend(1, "b", b.url(), 2))
				.run((context) -> {
					StepVerifier.create(stream(client(context)).map(ServerSentEvent::data))
						.expectNext("partial")
						.expectError()
						.verify(Duration.ofSeconds(10));
					assertThat(b.requests()).isZero();
					LoadBalancer balancer = context.getBean(LoadBalancer.class);
					assertThat(balancer.backend("a").breaker().getMetrics().getNumberOfFailedCalls()).isEqualTo(1);
				});
		}
	}

	@Test
	void waitsWithoutBlockingForTheSoonestBackendWithinMaxWait() {
		WireMockServer a = this.backends.start();
		a.stubFor(post(anyUrl()).inScenario("throttle")
			.whenScenarioStateIs("Started")
			.willReturn(aResponse().withStatus(429).withHeader("retry-after-ms", "200"))
			.willSetStateTo("recovered"));
		a.stubFor(post(anyUrl()).inScenario("throttle")
			.whenScenarioStateIs("recovered")
			.willReturn(okJson("{\"from\":\"a\"}")));
		this.runner.withPropertyValues("openai.lb.max-wait=5s")
			.withPropertyValues(backend(0, "a", a.baseUrl(), 1))
			.run((context) -> {
				String body = client(context).post()
					.uri(CHAT)
					.contentType(MediaType.APPLICATION_JSON)
					.bodyValue("{}")
					.retrieve()
					.bodyToMono(String.class)
					.block(Duration.ofSeconds(10));
				assertThat(body).contains("\"a\"");
				assertThat(a.getAllServeEvents()).hasSize(2);
			});
	}

	@Test
	void everyBackendThrottledIsA429WithRetryAfterForWebClientToo() {
		WireMockServer a = this.backends.start();
		a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(429).withHeader("x-ratelimit-reset-requests", "1m3s")));
		this.runner.withPropertyValues(backend(0, "a", a.baseUrl(), 1)).run((context) -> {
			var entity = client(context).post()
				.uri(CHAT)
				.bodyValue("{}")
				.exchangeToMono((response) -> response.toEntity(String.class))
				.block(Duration.ofSeconds(10));
			assertThat(entity.getStatusCode().value()).isEqualTo(429);
			assertThat(entity.getHeaders().getFirst("Retry-After")).isEqualTo("63");
		});
	}

	@Test
	void cancellingACallLeavesTheBackendHealthy() throws Exception {
		CountDownLatch arrived = new CountDownLatch(1);
		try (ScriptedBackend slow = new ScriptedBackend((exchange, self) -> {
			arrived.countDown();
			self.stallUntilClosed();
		})) {
			this.runner.withPropertyValues(backend(0, "slow", slow.url(), 1)).run((context) -> {
				var subscription = client(context).post().uri(CHAT).bodyValue("{}").retrieve().bodyToMono(String.class).subscribe();
				assertThat(arrived.await(10, TimeUnit.SECONDS)).isTrue();
				subscription.dispose();
				LoadBalancer balancer = context.getBean(LoadBalancer.class);
				assertThat(balancer.backend("slow").counts().failures()).isZero();
				assertThat(balancer.backend("slow").state()).hasToString("AVAILABLE");
			});
		}
	}

	private static Flux<ServerSentEvent<String>> stream(WebClient client) {
		return client.post()
			.uri(CHAT)
			.contentType(MediaType.APPLICATION_JSON)
			.accept(MediaType.TEXT_EVENT_STREAM)
			.bodyValue("{\"stream\":true}")
			.retrieve()
			.bodyToFlux(EVENT);
	}

	private static WebClient client(org.springframework.context.ApplicationContext context) {
		return context.getBean("openAiLbWebClient", WebClient.class);
	}

	private static String[] backend(int index, String name, String url, int priority) {
		String prefix = "openai.lb.backends[" + index + "].";
		return new String[] { prefix + "name=" + name, prefix + "url=" + url, prefix + "priority=" + priority };
	}

}
