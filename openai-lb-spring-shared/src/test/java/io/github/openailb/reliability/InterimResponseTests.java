package io.github.openailb.reliability;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import io.github.openailb.core.LoadBalancer;
import io.github.openailb.testsupport.PersistentBackend;
import io.github.openailb.testsupport.PersistentBackend.Request;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.core.publisher.Flux;

import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.web.client.RestClient;
import org.springframework.web.reactive.function.client.WebClient;

import static io.github.openailb.reliability.BalancedApp.CHAT;
import static io.github.openailb.reliability.BalancedApp.backend;
import static io.github.openailb.reliability.BalancedApp.ownAnswer;
import static io.github.openailb.reliability.BalancedApp.restClient;
import static io.github.openailb.reliability.BalancedApp.webClient;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Issue #16: interim 1xx answers ({@code 100}, {@code 102 Processing}, {@code 103 Early Hints})
 * before a backend's real answer, on pooled keep-alive connections, under concurrency. Reactor
 * Netty alone takes a 102/103 for the final answer, hands the connection back to the pool, and the
 * real answer is then read by the next request on it; through the balancer every caller must get
 * exactly its own answer. What cannot be handled safely (101, a status that is not HTTP) fails the
 * attempt, closes the connection and fails over.
 */
class InterimResponseTests {

	private static final int CALLERS = 32;

	private static final int ROUNDS = 10;

	private final ApplicationContextRunner runner = BalancedApp.runner();

	/**
	 * Interim answers before the real one, which echoes the caller's id. Every other request gets
	 * its interim answers in separate writes, a few milliseconds apart, so that they also arrive in
	 * separate reads; the rest get everything in one write.
	 */
	private static void interimFirst(Request request, OutputStream out) throws Exception {
		String id = request.header("x-caller");
		boolean apart = id.hashCode() % 2 == 0;
		StringBuilder interim = new StringBuilder();
		if (id.hashCode() % 3 == 0) {
			interim.append("HTTP/1.1 100 Continue\r\n\r\n");
		}
		interim.append("HTTP/1.1 102 Processing\r\n\r\n");
		if (apart) {
			out.write(interim.toString().getBytes(StandardCharsets.US_ASCII));
			out.flush();
			Thread.sleep(3);
			interim.setLength(0);
		}
		interim.append("HTTP/1.1 103 Early Hints\r\nLink: </hint.css>; rel=preload\r\n\r\n");
		out.write(interim.toString().getBytes(StandardCharsets.US_ASCII));
		if (apart) {
			out.flush();
			Thread.sleep(3);
		}
		PersistentBackend.answer(out, 200, "application/json", ("{\"caller\":\"" + id + "\"}").getBytes(StandardCharsets.UTF_8));
	}

	@Test
	void everyReactiveCallerGetsExactlyItsOwnAnswerAfterInterimAnswers() throws Exception {
		try (PersistentBackend a = new PersistentBackend(InterimResponseTests::interimFirst);
				PersistentBackend b = new PersistentBackend(InterimResponseTests::interimFirst)) {
			this.runner.withPropertyValues(backend(0, "a", a.url(), 1)).withPropertyValues(backend(1, "b", b.url(), 1))
				.run((context) -> {
					WebClient client = webClient(context);
					List<String> wrong = Flux.range(0, CALLERS * ROUNDS)
						.flatMap((i) -> ownAnswer(client, "w" + i), CALLERS)
						.filter((verdict) -> !verdict.isEmpty())
						.collectList()
						.block(Duration.ofSeconds(60));
					assertThat(wrong).as("callers that did not get exactly their own answer").isEmpty();
					// the pool reused connections, which is where answers used to cross
					assertThat(a.connections() + b.connections()).isLessThan(CALLERS * ROUNDS / 2);
					LoadBalancer balancer = context.getBean(LoadBalancer.class);
					for (String name : List.of("a", "b")) {
						assertThat(balancer.backend(name).counts().failures()).isZero();
					}
				});
		}
	}

	@Test
	void everyBlockingCallerGetsExactlyItsOwnAnswerAfterInterimAnswers() throws Exception {
		try (PersistentBackend a = new PersistentBackend(InterimResponseTests::interimFirst)) {
			this.runner.withPropertyValues(backend(0, "a", a.url(), 1)).run((context) -> {
				RestClient client = restClient(context);
				ExecutorService callers = Executors.newFixedThreadPool(16);
				try {
					List<Future<String>> verdicts = new ArrayList<>();
					for (int i = 0; i < 16 * ROUNDS; i++) {
						String id = "r" + i;
						verdicts.add(callers.submit(() -> {
							String body = client.post().uri(CHAT).header("x-caller", id).body("{}").retrieve().body(String.class);
							return ("{\"caller\":\"" + id + "\"}").equals(body) ? "" : id + " got " + body;
						}));
					}
					for (Future<String> verdict : verdicts) {
						assertThat(verdict.get(30, TimeUnit.SECONDS)).isEmpty();
					}
					assertThat(a.connections()).isLessThan(16 * ROUNDS / 2);
				}
				finally {
					callers.shutdownNow();
				}
			});
		}
	}

	@ParameterizedTest(name = "{0}")
	@ValueSource(strings = { "101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade", "600 Beyond",
			"099 Below" })
	void answersThatCannotBeHandledSafelyFailTheAttemptCloseItsConnectionAndFailOver(String statusAndHeaders)
			throws Exception {
		try (PersistentBackend odd = new PersistentBackend((request, out) -> {
			out.write(("HTTP/1.1 " + statusAndHeaders + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
			out.flush();
			// then say nothing more: the balancer must close the connection itself
		}); PersistentBackend fine = new PersistentBackend(InterimResponseTests::interimFirst)) {
			this.runner.withPropertyValues(backend(0, "odd", odd.url(), 1))
				.withPropertyValues(backend(1, "fine", fine.url(), 2))
				.run((context) -> {
					WebClient client = webClient(context);
					for (int i = 0; i < 3; i++) {
						assertThat(ownAnswer(client, "c" + i).block(Duration.ofSeconds(10))).isEmpty();
					}
					LoadBalancer balancer = context.getBean(LoadBalancer.class);
					assertThat(balancer.backend("odd").counts().failures()).isEqualTo(3);
					assertThat(balancer.backend("odd").breaker().getMetrics().getNumberOfFailedCalls()).isEqualTo(3);
					// each connection was closed by the balancer, none went back to the pool
					assertThat(odd.connections()).isEqualTo(3);
					await().atMost(Duration.ofSeconds(5)).until(() -> odd.openConnections() == 0);
				});
			// alone, it ends the request with an error that says what the backend did
			this.runner.withPropertyValues(backend(0, "odd", odd.url(), 1)).run((context) -> {
				WebClient client = webClient(context);
				assertThat(ownAnswer(client, "alone").block(Duration.ofSeconds(10)))
					.contains("odd: RefusedAnswerException (answered " + statusAndHeaders.substring(0, 3).replaceFirst("^0", ""));
			});
		}
	}

	/**
	 * Why the same scenario cannot pass on the direct path: an application's own Reactor Netty
	 * client (here the pass-through of the application's WebClient.Builder, which the starter
	 * leaves as the application built it) skips only {@code 100 Continue} and takes a 102 for the
	 * final answer (Reactor Netty 1.2.x {@code HttpClientOperations#onInboundNext}). No caller gets
	 * its own answer. Should a Reactor Netty upgrade fix this, this test fails and
	 * docs/RELIABILITY.md must be updated.
	 */
	@Test
	void theDirectReactorNettyPathTakesAnInterimAnswerForTheFinalOne() throws Exception {
		try (PersistentBackend a = new PersistentBackend(InterimResponseTests::interimFirst)) {
			this.runner.withPropertyValues(backend(0, "a", a.url(), 1)).run((context) -> {
				WebClient direct = context.getBean(WebClient.Builder.class).baseUrl(a.url()).build();
				List<Integer> statuses = Flux.range(0, CALLERS * 2)
					.flatMap((i) -> direct.post()
						.uri(CHAT)
						.header("x-caller", "d" + i)
						.bodyValue("{}")
						.exchangeToMono((response) -> response.bodyToMono(String.class)
							.defaultIfEmpty("")
							.map((body) -> body.equals("{\"caller\":\"d" + i + "\"}") ? 0 : response.statusCode().value()))
						.onErrorReturn(-1), CALLERS)
					.collectList()
					.block(Duration.ofSeconds(60));
				assertThat(statuses).doesNotContain(0).contains(102);
			});
		}
	}
}
