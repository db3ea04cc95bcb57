package io.github.openailb.reliability;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import io.github.openailb.actuate.HealthDetails;
import io.github.openailb.core.BackendState;
import io.github.openailb.core.LoadBalancer;
import io.github.openailb.core.NoBackendAnsweredException;
import io.github.openailb.testsupport.PersistentBackend;
import io.github.openailb.testsupport.PersistentBackend.Request;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ApplicationContext;
import org.springframework.http.ResponseEntity;
import org.springframework.web.client.RestClient;
import org.springframework.web.reactive.function.client.WebClient;

import static io.github.openailb.reliability.BalancedApp.CHAT;
import static io.github.openailb.reliability.BalancedApp.backend;
import static io.github.openailb.reliability.BalancedApp.ownAnswer;
import static io.github.openailb.reliability.BalancedApp.restClient;
import static io.github.openailb.reliability.BalancedApp.webClient;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatException;
import static org.awaitility.Awaitility.await;

/**
 * Issue #16: a backend that trickles (a byte at a time, never silent long enough for the response
 * timeout) is bounded in total time. Trickling before its answer starts, it fails over within the
 * response timeout; trickling its body, it is cut at {@code max-duration} and the caller gets an
 * error naming it. Either way the backend is blamed in its breaker and shows in health, the
 * healthy lower tier takes the traffic, and no caller thread nor connection is left behind.
 */
class MaxDurationTests {

	private static final int CALLERS = 16;

	private final ApplicationContextRunner runner = BalancedApp.runner()
		.withPropertyValues("openai.lb.connect-timeout=1s", "openai.lb.response-timeout=1s",
				"openai.lb.max-duration=2s");

	/** Status line and headers one byte every 100 ms: some 8 s before a body could start. */
	private static void trickleHead(Request request, OutputStream out) throws Exception {
		trickle(out, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}", 100);
	}

	/** Headers at once, then a JSON body one byte every 200 ms: some 12 s in all. */
	private static void trickleJsonBody(Request request, OutputStream out) throws Exception {
		String body = "{\"choices\":[{\"message\":{\"content\":\"a slow, slow answer\"}}]}";
		out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + body.length() + "\r\n\r\n")
			.getBytes(StandardCharsets.US_ASCII));
		trickle(out, body, 200);
	}

	/** Headers at once, then an event stream one byte every 200 ms. */
	private static void trickleEventBody(Request request, OutputStream out) throws Exception {
		out.write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
			.getBytes(StandardCharsets.US_ASCII));
		for (char c : "data: {\"n\":1}\n\ndata: {\"n\":2}\n\ndata: [DONE]\n\n".toCharArray()) {
			out.write(("1\r\n" + c + "\r\n").getBytes(StandardCharsets.US_ASCII));
			out.flush();
			Thread.sleep(200);
		}
		out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
	}

	private static void trickle(OutputStream out, String text, long millis) throws Exception {
		for (byte b : text.getBytes(StandardCharsets.US_ASCII)) {
			out.write(b);
			out.flush();
			Thread.sleep(millis);
		}
	}

	private static void healthy(Request request, OutputStream out) throws Exception {
		PersistentBackend.answer(out, 200, "application/json",
				("{\"caller\":\"" + request.header("x-caller") + "\"}").getBytes(StandardCharsets.UTF_8));
	}

	@Test
	void aBackendTricklingBeforeItsAnswerFailsOverToTheHealthyTierAndShowsInHealth() throws Exception {
		againstSlowAndHealthy(MaxDurationTests::trickleHead, (context, slow) -> {
				WebClient client = webClient(context);
				List<String> verdicts = callersAtOnce(client);
				// the healthy backend's answer, each well within response timeout + max-duration
				assertThat(verdicts).hasSize(CALLERS).allSatisfy((verdict) -> assertThat(verdict).startsWith("own in "));
				assertThat(verdicts).allSatisfy((verdict) -> assertThat(millis(verdict)).isLessThan(4000));
				assertBlamedAndShownInHealth(context, CALLERS);
				await().atMost(Duration.ofSeconds(5)).until(() -> slow.openConnections() == 0);
		});
	}

	@Test
	void blockingCallersOfATricklingBackendEndWithinTheBoundAndNoThreadStaysBlocked() throws Exception {
		againstSlowAndHealthy(MaxDurationTests::trickleHead, (context, slow) -> {
				RestClient client = restClient(context);
				ExecutorService callers = Executors.newFixedThreadPool(CALLERS);
				List<Future<String>> answers = new ArrayList<>();
				for (int i = 0; i < CALLERS; i++) {
					String id = "r" + i;
					answers.add(callers.submit(() -> client.post().uri(CHAT).header("x-caller", id).body("{}")
						.retrieve().body(String.class)));
				}
				for (int i = 0; i < CALLERS; i++) {
					assertThat(answers.get(i).get(10, TimeUnit.SECONDS)).isEqualTo("{\"caller\":\"r" + i + "\"}");
				}
				callers.shutdown();
				assertThat(callers.awaitTermination(5, TimeUnit.SECONDS)).isTrue();
				assertBlamedAndShownInHealth(context, CALLERS);
				await().atMost(Duration.ofSeconds(5)).until(() -> slow.openConnections() == 0);
		});
	}

	@ParameterizedTest(name = "{0}")
	@ValueSource(strings = { "json", "event-stream" })
	void aBodyTricklingAfterItStartedIsCutAtMaxDurationAndItsBackendIsBlamed(String kind) throws Exception {
		PersistentBackend.Script trickle = kind.equals("json") ? MaxDurationTests::trickleJsonBody
				: MaxDurationTests::trickleEventBody;
		againstSlowAndHealthy(trickle, (context, slow) -> {
				WebClient client = webClient(context);
				List<String> verdicts = callersAtOnce(client);
				// the body had started, so no failover: a documented error naming the bound, in time
				assertThat(verdicts).allSatisfy((verdict) -> {
					assertThat(verdict).contains("max-duration");
					assertThat(millis(verdict)).isBetween(1900L, 4000L);
				});
				await().atMost(Duration.ofSeconds(5)).until(() -> slow.openConnections() == 0);
				// blamed: the breaker opened, and the next caller goes to the healthy tier
				LoadBalancer balancer = context.getBean(LoadBalancer.class);
				assertThat(balancer.backend("slow").breaker().getMetrics().getNumberOfFailedCalls()).isGreaterThanOrEqualTo(10);
				assertThat(balancer.backend("slow").state()).isEqualTo(BackendState.CIRCUIT_OPEN);
				assertThat(ownAnswer(client, "next").block(Duration.ofSeconds(5))).isEmpty();
		});
	}

	@Test
	void aBlockingCallerReadingATricklingBodyIsCutAtMaxDuration() throws Exception {
		try (PersistentBackend slow = new PersistentBackend(MaxDurationTests::trickleJsonBody)) {
			this.runner.withPropertyValues(backend(0, "slow", slow.url(), 1)).run((context) -> {
				RestClient client = restClient(context);
				long start = System.nanoTime();
				assertThatException().isThrownBy(() -> client.post().uri(CHAT).body("{}").retrieve().body(String.class))
					.withStackTraceContaining("max-duration");
				assertThat(Duration.ofNanos(System.nanoTime() - start)).isBetween(Duration.ofMillis(1900),
						Duration.ofSeconds(4));
				await().atMost(Duration.ofSeconds(5)).until(() -> slow.openConnections() == 0);
			});
		}
	}

	@Test
	void maxDurationAlsoBoundsAttemptsBeforeAnyAnswerAndEndsTheRequest() throws Exception {
		try (PersistentBackend hung = new PersistentBackend((request, out) -> Thread.sleep(30_000))) {
			this.runner.withPropertyValues(backend(0, "hung", hung.url(), 1))
				.withPropertyValues("openai.lb.response-timeout=20s", "openai.lb.max-duration=1s")
				.run((context) -> {
					WebClient client = webClient(context);
					long start = System.nanoTime();
					assertThatException().isThrownBy(() -> client.post().uri(CHAT).bodyValue("{}").retrieve()
						.bodyToMono(String.class).block(Duration.ofSeconds(30)))
						.havingRootCause()
						.isInstanceOf(NoBackendAnsweredException.class)
						.withMessageContaining("hung: TimeoutException")
						.withMessageContaining("openai.lb.max-duration (1000 ms)");
					assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(4));
					LoadBalancer balancer = context.getBean(LoadBalancer.class);
					assertThat(balancer.backend("hung").breaker().getMetrics().getNumberOfFailedCalls()).isOne();
				});
		}
	}

	@Test
	void maxDurationCutsAWaitForACoolingBackendShort() throws Exception {
		try (PersistentBackend throttled = new PersistentBackend((request, out) -> PersistentBackend.answer(out, 429,
				"application/json", "{\"error\":{\"code\":\"429\"}}".getBytes(StandardCharsets.UTF_8), "Retry-After", "6"))) {
			this.runner.withPropertyValues(backend(0, "a", throttled.url(), 1))
				.withPropertyValues("openai.lb.max-wait=30s", "openai.lb.max-duration=1s")
				.run((context) -> {
					RestClient client = restClient(context);
					long start = System.nanoTime();
					ResponseEntity<Void> entity = client.post().uri(CHAT).body("{}").exchange((request, response) ->
						ResponseEntity.status(response.getStatusCode()).headers(response.getHeaders()).build());
					assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(4));
					assertThat(entity.getStatusCode().value()).isEqualTo(429);
					// the synthetic 429 still says when the backend is free again
					assertThat(Long.parseLong(entity.getHeaders().getFirst("Retry-After"))).isBetween(3L, 6L);
					assertThat(throttled.requests()).isOne();
				});
		}
	}

	/** A trickling backend in the first tier, a healthy one in the second. */
	private void againstSlowAndHealthy(PersistentBackend.Script slowScript, SlowAndHealthy test) throws Exception {
		try (PersistentBackend slow = new PersistentBackend(slowScript);
				PersistentBackend fast = new PersistentBackend(MaxDurationTests::healthy)) {
			this.runner.withPropertyValues(backend(0, "slow", slow.url(), 1))
				.withPropertyValues(backend(1, "fast", fast.url(), 2))
				.run((context) -> test.accept(context, slow));
		}
	}

	@FunctionalInterface
	private interface SlowAndHealthy {

		void accept(ApplicationContext context, PersistentBackend slow) throws Throwable;

	}

	private static void assertBlamedAndShownInHealth(ApplicationContext context, int callers) {
		LoadBalancer balancer = context.getBean(LoadBalancer.class);
		assertThat(balancer.backend("slow").breaker().getMetrics().getNumberOfFailedCalls()).isGreaterThanOrEqualTo(10);
		// what both lines' health indicators report
		assertThat(HealthDetails.isUp(balancer)).isTrue();
		@SuppressWarnings("unchecked")
		Map<String, Map<String, Object>> backends = (Map<String, Map<String, Object>>) HealthDetails.of(balancer)
			.get("backends");
		assertThat(backends.get("slow")).containsEntry("state", BackendState.CIRCUIT_OPEN);
		@SuppressWarnings("unchecked")
		Map<String, Object> attempts = (Map<String, Object>) backends.get("slow").get("attempts");
		assertThat((long) attempts.get("failure")).isGreaterThanOrEqualTo(10);
		assertThat((long) ((Map<?, ?>) backends.get("fast").get("attempts")).get("success")).isEqualTo(callers);
	}

	/** Every caller at once; each verdict reads "own in N ms" or "VERDICT in N ms". */
	private static List<String> callersAtOnce(WebClient client) {
		return Flux.range(0, CALLERS)
			.flatMap((i) -> timed(ownAnswer(client, "w" + i)), CALLERS)
			.collectList()
			.block(Duration.ofSeconds(30));
	}

	private static Mono<String> timed(Mono<String> verdict) {
		return Mono.defer(() -> {
			long start = System.nanoTime();
			return verdict.map((v) -> (v.isEmpty() ? "own" : v) + " in " + (System.nanoTime() - start) / 1_000_000 + " ms");
		});
	}

	private static long millis(String timed) {
		String[] words = timed.split(" ");
		return Long.parseLong(words[words.length - 2]);
	}
}
