package io.github.openailb.reliability;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import io.github.openailb.autoconfigure.LoadBalancerCustomizer;
import io.github.openailb.autoconfigure.OpenAiLbAutoConfiguration;
import io.github.openailb.autoconfigure.OpenAiLbClientsAutoConfiguration;
import io.github.openailb.core.NoBackendAnsweredException;
import io.github.openailb.reliability.FaultServer.Answer;
import io.github.openailb.reliability.FaultServer.Fault;
import io.github.openailb.testsupport.BootLine;
import io.github.openailb.transport.BalancingClientHttpConnector;
import io.github.openailb.transport.ReactorTransport;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.reactive.function.client.WebClient;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Issue #9: a bounded fault-injection run through the balanced {@link WebClient} against three
 * loopback backends answering with a seeded random mix of successes and faults, plus one backend
 * nobody listens on. Every request is judged against what the backends really answered for it.
 * Size with {@code -Dopenailb.chaos.requests} / {@code -Dopenailb.chaos.concurrency}; the
 * {@code chaos} Maven profile runs a larger one.
 */
class FaultInjectionTests {

	private static final String CHAT = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21";

	private static final long SEED = Long.getLong("openailb.chaos.seed", 9L);

	private static final int REQUESTS = Integer.getInteger("openailb.chaos.requests", 2000);

	private static final int CONCURRENCY = Integer.getInteger("openailb.chaos.concurrency", 32);

	private static final int WARM_UP = 64;

	private static final Duration RESPONSE_TIMEOUT = Duration.ofSeconds(3);

	/** The bound of each request, trickled bodies included (issue #16). */
	private static final Duration MAX_DURATION = Duration.ofSeconds(4);

	/**
	 * A complete 2xx (written at once when the request arrives) that arrived this soon after the
	 * request began must reach the caller; a later one may have lost the race with the attempt's
	 * response timeout on a starved machine, and is counted apart.
	 */
	private static final long PROMPT_NANOS = Duration.ofSeconds(1).toNanos();

	private static final String[] QUIET = { "io.github.openailb", "reactor", "io.netty", "org.springframework" };

	private final Map<String, Level> levels = new TreeMap<>();

	/** What happened to one request, as the caller saw it. */
	enum Ending {

		SUCCESS, THROTTLED_429_SYNTHETIC, LAST_ANSWER_429, LAST_ANSWER_5XX, NO_BACKEND_ANSWERED,
		BODY_BROKEN_AFTER_START, LATE_SUCCESS_TIMED_OUT, VIOLATION

	}

	@BeforeEach
	void quiet() {
		// thousands of failovers are logged at INFO: keep the test output to the summary
		for (String name : QUIET) {
			Logger logger = (Logger) LoggerFactory.getLogger(name);
			this.levels.put(name, logger.getLevel());
			logger.setLevel(Level.ERROR);
		}
	}

	@AfterEach
	void restore() {
		this.levels.forEach((name, level) -> ((Logger) LoggerFactory.getLogger(name)).setLevel(level));
	}

	@Test
	void everyRequestEndsInTheBackendsAnswerOrADocumentedErrorAndNothingLeaks() throws Exception {
		Map<String, List<Answer>> log = new ConcurrentHashMap<>();
		String refused = refusedUrl();
		try (FaultServer a = new FaultServer("a", SEED, log); FaultServer b = new FaultServer("b", SEED, log);
				FaultServer c = new FaultServer("c", SEED, log)) {
			List<FaultServer> servers = List.of(a, b, c);
			new ApplicationContextRunner()
				.withConfiguration(AutoConfigurations.of(BootLine.WEB_CLIENT))
		.withConfiguration(AutoConfigurations.of(OpenAiLbAutoConfiguration.class, OpenAiLbClientsAutoConfiguration.class))
				.withPropertyValues("openai.lb.response-timeout=" + RESPONSE_TIMEOUT.toMillis() + "ms",
						"openai.lb.max-duration=" + MAX_DURATION.toMillis() + "ms",
						"openai.lb.connect-timeout=1s", "openai.lb.default-retry-after=2ms",
						"openai.lb.max-cool-down=5ms")
				.withPropertyValues(backend(0, "a", a.url()))
				.withPropertyValues(backend(1, "b", b.url()))
				.withPropertyValues(backend(2, "c", c.url()))
				.withPropertyValues(backend(3, "refused", refused))
				.withBean(LoadBalancerCustomizer.class, () -> FaultInjectionTests::fastBreakers)
				.run((context) -> {
					assertThat(context).hasNotFailed();
					WebClient client = context.getBean("openAiLbWebClient", WebClient.class);
					// max-duration, plus a margin for a loaded machine
					Duration bound = MAX_DURATION.plusSeconds(2);
					List<Judged> judged = new ArrayList<>(run(client, 0, WARM_UP, bound, log));
					Map<String, Long> baseline = threads();
					judged.addAll(run(client, WARM_UP, REQUESTS, bound, log));

					Report report = new Report(judged, log);
					System.out.println(report);
					assertThat(report.violations()).as(report.toString()).isEmpty();
					assertThat(judged).hasSize(REQUESTS);
					assertThat(report.endings.get(Ending.SUCCESS)).isPositive();
					// the client lets go of every connection: hung attempts included
					await().atMost(Duration.ofSeconds(10))
						.until(() -> servers.stream().mapToInt(FaultServer::openConnections).sum() == 0);
					// and keeps no more event-loop or timer threads than before the run
					await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> threads().forEach(
							(prefix, count) -> assertThat(count).as(prefix).isLessThanOrEqualTo(baseline.get(prefix))));
				});
		}
	}

	private static void fastBreakers(io.github.openailb.core.LoadBalancer.Builder builder) {
		// short open state so that backends keep cycling through the run
		CircuitBreakerConfig config = CircuitBreakerConfig.custom()
			.slidingWindowSize(20)
			.minimumNumberOfCalls(10)
			.failureRateThreshold(50)
			.waitDurationInOpenState(Duration.ofMillis(5))
			// enough probes that one hung attempt does not shut a backend for everybody
			.permittedNumberOfCallsInHalfOpenState(32)
			.build();
		builder.random(new Random(SEED)).circuitBreakers((name) -> CircuitBreaker.of(name, config));
	}

	private static List<Judged> run(WebClient client, int from, int to, Duration bound,
			Map<String, List<Answer>> log) {
		return Flux.range(from, to - from)
			.flatMap((i) -> call(client, "r" + i, bound), CONCURRENCY)
			.map((seen) -> judge(seen, log.getOrDefault(seen.id, List.of())))
			.collectList()
			.block(bound.multipliedBy(to - from));
	}

	private static Mono<Seen> call(WebClient client, String id, Duration bound) {
		long start = System.nanoTime();
		return client.post()
			.uri(CHAT)
			.header(FaultServer.REQUEST_ID, id)
			.contentType(MediaType.APPLICATION_JSON)
			.bodyValue("{\"messages\":[],\"request\":\"" + id + "\"}")
			.exchangeToMono((response) -> response.toEntity(String.class))
			.map((entity) -> new Seen(id, entity, null, start, System.nanoTime() - start))
			.onErrorResume((ex) -> Mono.just(new Seen(id, null, ex, start, System.nanoTime() - start)))
			// the invariant "it ends": a request still open after the bound is a hang
			.timeout(bound, Mono.fromSupplier(() -> new Seen(id, null, null, start, System.nanoTime() - start)));
	}

	static Judged judge(Seen seen, List<Answer> answers) {
		boolean anySuccess = answers.stream().anyMatch((answer) -> answer.fault().isSuccess());
		Answer last = answers.isEmpty() ? null : answers.get(answers.size() - 1);
		if (seen.entity == null && seen.error == null) {
			return new Judged(seen, answers, Ending.VIOLATION, "did not end within the bound");
		}
		if (seen.entity != null && seen.entity.getStatusCode().is2xxSuccessful()) {
			if (last == null || !last.fault().isSuccess()) {
				return new Judged(seen, answers, Ending.VIOLATION, "2xx although no backend answered a full 2xx last");
			}
			String json = "{\"id\":\"" + seen.id + "\"}";
			String expected = (last.fault() == Fault.OK_SSE) ? "data: " + json + "\n\ndata: [DONE]\n\n" : json;
			return expected.equals(seen.entity.getBody()) ? new Judged(seen, answers, Ending.SUCCESS, null)
					: new Judged(seen, answers, Ending.VIOLATION, "2xx with a body not the backend's: " + seen.entity.getBody());
		}
		boolean promptSuccess = answers.stream()
			.anyMatch((answer) -> answer.fault().isSuccess() && answer.arrived() - seen.start < PROMPT_NANOS);
		if (anySuccess && !promptSuccess) {
			return new Judged(seen, answers, Ending.LATE_SUCCESS_TIMED_OUT, null);
		}
		if (anySuccess) {
			return new Judged(seen, answers, Ending.VIOLATION, "a tried backend answered 2xx but the caller got "
					+ ((seen.entity != null) ? seen.entity.getStatusCode() : seen.error));
		}
		if (seen.entity != null) {
			int status = seen.entity.getStatusCode().value();
			String body = seen.entity.getBody();
			if (body == null || body.isEmpty()) {
				return new Judged(seen, answers, Ending.VIOLATION, status + " with an empty body");
			}
			if (status == 429 && BalancingClientHttpConnector.THROTTLED_MARK
				.equals(seen.entity.getHeaders().getFirst(BalancingClientHttpConnector.MARK_HEADER))) {
				String retryAfter = seen.entity.getHeaders().getFirst("Retry-After");
				return (retryAfter != null && Long.parseLong(retryAfter) >= 1)
						? new Judged(seen, answers, Ending.THROTTLED_429_SYNTHETIC, null)
						: new Judged(seen, answers, Ending.VIOLATION, "synthetic 429 without Retry-After");
			}
			if (status == 429) {
				return new Judged(seen, answers, Ending.LAST_ANSWER_429, null);
			}
			if (status >= 500 && status <= 504) {
				return new Judged(seen, answers, Ending.LAST_ANSWER_5XX, null);
			}
			return new Judged(seen, answers, Ending.VIOLATION, "unexpected status " + status);
		}
		NoBackendAnsweredException none = find(seen.error);
		if (none != null) {
			return (none.getMessage().matches("(?s).*(\\ba\\b|\\bb\\b|\\bc\\b|refused).*"))
					? new Judged(seen, answers, Ending.NO_BACKEND_ANSWERED, none.getMessage())
					: new Judged(seen, answers, Ending.VIOLATION, "unclear error: " + none.getMessage());
		}
		if (last != null && last.fault().breaksBody()) {
			return new Judged(seen, answers, Ending.BODY_BROKEN_AFTER_START, null);
		}
		return new Judged(seen, answers, Ending.VIOLATION, "undocumented error: " + seen.error);
	}

	private static NoBackendAnsweredException find(Throwable error) {
		for (Throwable cause = error; cause != null; cause = cause.getCause()) {
			if (cause instanceof NoBackendAnsweredException none) {
				return none;
			}
		}
		return null;
	}

	/** Live threads of the client's event loops and timers, by name prefix. */
	private static Map<String, Long> threads() {
		Map<String, Long> counts = new TreeMap<>(
				Map.of("reactor-http", 0L, ReactorTransport.THREAD_PREFIX, 0L, "parallel", 0L));
		Thread.getAllStackTraces().keySet().forEach((thread) -> counts.replaceAll(
				(prefix, count) -> thread.getName().startsWith(prefix) ? count + 1 : count));
		return counts;
	}

	private static String refusedUrl() throws IOException {
		try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
			return "http://127.0.0.1:" + socket.getLocalPort();
		}
	}

	private static String[] backend(int index, String name, String url) {
		String prefix = "openai.lb.backends[" + index + "].";
		return new String[] { prefix + "name=" + name, prefix + "url=" + url };
	}

	record Seen(String id, ResponseEntity<String> entity, Throwable error, long start, long nanos) {
	}

	record Judged(Seen seen, List<Answer> answers, Ending ending, String violation) {
	}

	/** The counts printed by the run and copied to docs/RELIABILITY.md. */
	static final class Report {

		final Map<Ending, Long> endings = new EnumMap<>(Ending.class);

		final Map<Fault, Long> faults = new EnumMap<>(Fault.class);

		final List<Judged> judged;

		final long attempts;

		final long slowestMillis;

		Report(List<Judged> judged, Map<String, List<Answer>> log) {
			this.judged = judged;
			for (Ending ending : Ending.values()) {
				this.endings.put(ending, 0L);
			}
			judged.forEach((one) -> this.endings.merge(one.ending, 1L, Long::sum));
			AtomicLong count = new AtomicLong();
			log.values().forEach((answers) -> answers.forEach((answer) -> {
				this.faults.merge(answer.fault(), 1L, Long::sum);
				count.incrementAndGet();
			}));
			this.attempts = count.get();
			this.slowestMillis = judged.stream().mapToLong((one) -> one.seen.nanos).max().orElse(0) / 1_000_000;
		}

		List<String> violations() {
			return this.judged.stream()
				.filter((one) -> one.ending == Ending.VIOLATION)
				.limit(20)
				.map((one) -> one.seen.id + ": " + one.violation + " after " + one.answers)
				.toList();
		}

		@Override
		public String toString() {
			StringBuilder out = new StringBuilder("openai-lb fault injection: seed=" + SEED + " requests="
					+ this.judged.size() + " concurrency=" + CONCURRENCY + " backends=3 faulty + 1 refused\n");
			out.append("  answers given by the faulty backends (").append(this.attempts).append("):\n");
			this.faults.forEach((fault, n) -> out.append("    ").append(fault).append(' ').append(n).append('\n'));
			out.append("  endings seen by the caller:\n");
			this.endings.forEach((ending, n) -> out.append("    ").append(ending).append(' ').append(n).append('\n'));
			this.judged.stream()
				.filter((one) -> one.ending == Ending.NO_BACKEND_ANSWERED)
				.map((one) -> one.violation.replaceAll("\\d+ms", "Nms"))
				.collect(java.util.stream.Collectors.groupingBy((reason) -> reason, TreeMap::new,
						java.util.stream.Collectors.counting()))
				.forEach((reason, n) -> out.append("    ").append(n).append(" x ").append(reason).append('\n'));
			out.append("  slowest request: ").append(this.slowestMillis).append(" ms\n");
			return out.toString();
		}

	}

}
