package io.github.openailb.reliability;

import java.time.Duration;
import java.util.Random;

import com.github.tomakehurst.wiremock.WireMockServer;
import io.github.openailb.actuate.HealthDetails;
import io.github.openailb.autoconfigure.LoadBalancerCustomizer;
import io.github.openailb.core.LoadBalancer;
import io.github.openailb.testsupport.LoopbackBackends;
import io.github.openailb.testsupport.MutableClock;
import io.github.openailb.transport.BalancingClientHttpConnector;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.core.ParameterizedTypeReference;
import org.springframework.core.io.ByteArrayResource;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.http.client.MultipartBodyBuilder;
import org.springframework.web.client.RestClient;
import org.springframework.web.reactive.function.BodyInserters;
import org.springframework.web.reactive.function.client.WebClient;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue #19: requests tied to server-side state (a file uploaded, then used by its id; a stored
 * response, then continued) stay on the home backend over real HTTP, whatever the weights, while
 * stateless calls are still balanced; a home backend that cannot take them is reported to the
 * caller at once, and no other backend is asked.
 */
class StatefulAffinityTests {

	private static final String FILES = "/openai/files";

	private static final String API_VERSION = "?api-version=2024-10-21";

	@RegisterExtension
	final LoopbackBackends backends = new LoopbackBackends();

	private final MutableClock clock = new MutableClock();

	/** Two backends of one tier, the home one with a quarter of the weight. */
	private ApplicationContextRunner runner(WireMockServer home, WireMockServer other) {
		return BalancedApp.runner()
			.withBean(LoadBalancerCustomizer.class, () -> (builder) -> builder.clock(this.clock)
				.random(new Random(19))
				.circuitBreakers(CircuitBreakerRegistry.of(LoadBalancer.defaultBreakerConfig(this.clock))::circuitBreaker))
			.withPropertyValues(BalancedApp.backend(0, "home", home.baseUrl(), 1))
			.withPropertyValues(BalancedApp.backend(1, "other", other.baseUrl(), 1))
			.withPropertyValues("openai.lb.backends[1].weight=3");
	}

	@Test
	void uploadedFileIsUsedByItsIdOnTheBackendThatHoldsItWhileChatIsBalanced() {
		WireMockServer home = answering(this.backends.start(), "home");
		WireMockServer other = answering(this.backends.start(), "other");
		runner(home, other).run((context) -> {
			WebClient client = BalancedApp.webClient(context);
			for (int i = 0; i < 8; i++) {
				MultipartBodyBuilder upload = new MultipartBodyBuilder();
				upload.part("purpose", "batch");
				upload.part("file", new ByteArrayResource("{\"custom_id\":\"1\"}\n".getBytes()) {
					@Override
					public String getFilename() {
						return "batch.jsonl";
					}
				});
				String id = client.post()
					.uri(FILES + API_VERSION)
					.body(BodyInserters.fromMultipartData(upload.build()))
					.retrieve()
					.bodyToMono(JSON)
					.block(Duration.ofSeconds(10))
					.get("id")
					.toString();
				assertThat(id).isEqualTo("home-object");
				get(client, FILES + "/" + id + API_VERSION);
				get(client, FILES + "/" + id + "/content" + API_VERSION);
				client.post()
					.uri("/openai/batches" + API_VERSION)
					.contentType(MediaType.APPLICATION_JSON)
					.bodyValue("{\"input_file_id\":\"" + id + "\",\"endpoint\":\"/chat/completions\"}")
					.retrieve()
					.toBodilessEntity()
					.block(Duration.ofSeconds(10));
				for (int chat = 0; chat < 5; chat++) {
					client.post()
						.uri(BalancedApp.CHAT)
						.bodyValue("{\"messages\":[]}")
						.retrieve()
						.toBodilessEntity()
						.block(Duration.ofSeconds(10));
				}
			}
			assertThat(home.findAll(anyRequestedFor(urlPathMatching("/openai/(files|batches).*")))).hasSize(32);
			assertThat(other.findAll(anyRequestedFor(urlPathMatching("/openai/(files|batches).*")))).isEmpty();
			// the same weights spread the stateless calls over both backends
			assertThat(home.findAll(anyRequestedFor(urlPathMatching("/openai/deployments/.*")))).isNotEmpty();
			assertThat(other.findAll(anyRequestedFor(urlPathMatching("/openai/deployments/.*")))).isNotEmpty();
		});
	}

	@Test
	void storedResponsesAreContinuedOnTheirBackendAndUnstoredOnesAreBalanced() {
		WireMockServer home = answering(this.backends.start(), "home");
		WireMockServer other = answering(this.backends.start(), "other");
		runner(home, other).run((context) -> {
			RestClient client = BalancedApp.restClient(context);
			for (int i = 0; i < 10; i++) {
				assertThat(respond(client, "{\"model\":\"gpt-4o\",\"input\":\"hi\"}")).contains("home");
				assertThat(respond(client,
						"{\"model\":\"gpt-4o\",\"store\":false,\"previous_response_id\":\"resp_1\",\"input\":\"more\"}"))
					.contains("home");
				respond(client, "{\"model\":\"gpt-4o\",\"store\":false,\"input\":\"hi\"}");
			}
			// only the unstored, unchained calls reach the other backend, and some do
			assertThat(other.findAll(anyRequestedFor(urlPathMatching("/openai/v1/responses"))))
				.isNotEmpty()
				.allSatisfy((request) -> assertThat(request.getBodyAsString()).contains("\"store\":false")
					.doesNotContain("previous_response_id"));
			assertThat(home.findAll(anyRequestedFor(urlPathMatching("/openai/v1/responses")))).hasSizeGreaterThan(20);
		});
	}

	@Test
	void throttledHomeIsReportedAtOnceAndNoOtherBackendIsAsked() {
		WireMockServer home = this.backends.start();
		home.stubFor(any(anyUrl()).willReturn(aResponse().withStatus(429).withHeader("Retry-After", "30")));
		WireMockServer other = answering(this.backends.start(), "other");
		runner(home, other).run((context) -> {
			RestClient client = BalancedApp.restClient(context);
			ResponseEntity<String> first = client.get()
				.uri(FILES + "/file-1" + API_VERSION)
				.retrieve()
				.onStatus((status) -> true, (request, response) -> {
				})
				.toEntity(String.class);
			assertThat(first.getStatusCode().value()).isEqualTo(503);
			assertThat(first.getHeaders().getFirst(BalancingClientHttpConnector.MARK_HEADER))
				.isEqualTo(BalancingClientHttpConnector.STATEFUL_UNAVAILABLE_MARK);
			assertThat(first.getHeaders().getFirst(HttpHeaders.RETRY_AFTER)).isEqualTo("30");
			assertThat(first.getBody()).contains("'home'").contains("HTTP 429").contains("retry after 30 seconds");

			// while it cools down, the next one is refused without a call, through WebClient too
			this.clock.advance(Duration.ofSeconds(10));
			ResponseEntity<Void> next = BalancedApp.webClient(context)
				.post()
				.uri("/openai/v1/batches")
				.bodyValue("{}")
				.exchangeToMono((response) -> response.toBodilessEntity())
				.block(Duration.ofSeconds(10));
			assertThat(next.getStatusCode().value()).isEqualTo(503);
			assertThat(next.getHeaders().getFirst(HttpHeaders.RETRY_AFTER)).isEqualTo("20");
			assertThat(home.getAllServeEvents()).hasSize(1);
			assertThat(other.getAllServeEvents()).isEmpty();

			// stateless calls carry on elsewhere
			assertThat(client.post().uri(BalancedApp.CHAT).body("{}").retrieve().body(String.class)).contains("other");
		});
	}

	@Test
	void balancedModeSpreadsStatefulCallsLikeAnyOther() {
		WireMockServer home = answering(this.backends.start(), "home");
		WireMockServer other = answering(this.backends.start(), "other");
		runner(home, other).withPropertyValues("openai.lb.stateful.mode=balanced").run((context) -> {
			WebClient client = BalancedApp.webClient(context);
			for (int i = 0; i < 20; i++) {
				get(client, FILES + "/file-1" + API_VERSION);
			}
			assertThat(home.getAllServeEvents()).isNotEmpty();
			assertThat(other.getAllServeEvents()).isNotEmpty();
			assertThat(HealthDetails.of(context.getBean(LoadBalancer.class))).doesNotContainKey("statefulBackend");
		});
	}

	@Test
	void namedHomeTakesTheStatefulCalls() {
		WireMockServer home = answering(this.backends.start(), "home");
		WireMockServer other = answering(this.backends.start(), "other");
		runner(home, other).withPropertyValues("openai.lb.stateful.backend=other").run((context) -> {
			WebClient client = BalancedApp.webClient(context);
			for (int i = 0; i < 10; i++) {
				get(client, "/openai/assistants" + API_VERSION);
			}
			assertThat(home.getAllServeEvents()).isEmpty();
			assertThat(other.getAllServeEvents()).hasSize(10);
			assertThat(HealthDetails.of(context.getBean(LoadBalancer.class))).containsEntry("statefulBackend", "other");
		});
	}

	private static final ParameterizedTypeReference<java.util.Map<String, Object>> JSON = new ParameterizedTypeReference<>() {
	};

	private static WireMockServer answering(WireMockServer server, String name) {
		server.stubFor(any(anyUrl()).willReturn(okJson("{\"id\":\"" + name + "-object\",\"backend\":\"" + name + "\"}")));
		return server;
	}

	private static void get(WebClient client, String uri) {
		client.get().uri(uri).retrieve().toBodilessEntity().block(Duration.ofSeconds(10));
	}

	private static String respond(RestClient client, String body) {
		return client.post()
			.uri("/openai/v1/responses")
			.contentType(MediaType.APPLICATION_JSON)
			.body(body)
			.retrieve()
			.body(String.class);
	}

}
