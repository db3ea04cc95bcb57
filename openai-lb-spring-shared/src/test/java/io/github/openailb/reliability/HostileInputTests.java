package io.github.openailb.reliability;

import io.github.openailb.testsupport.RawBackend;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.sun.net.httpserver.HttpServer;
import io.github.openailb.autoconfigure.LoadBalancerCustomizer;
import io.github.openailb.autoconfigure.OpenAiLbHttpClientCustomizer;
import io.github.openailb.autoconfigure.OpenAiLbAutoConfiguration;
import io.github.openailb.autoconfigure.OpenAiLbClientsAutoConfiguration;
import io.github.openailb.core.LoadBalancer;
import io.github.openailb.core.NoBackendAnsweredException;
import io.github.openailb.testsupport.BootLine;
import io.github.openailb.testsupport.LoopbackBackends;
import io.github.openailb.testsupport.MutableClock;
import io.github.openailb.testsupport.ScriptedBackend;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import reactor.core.publisher.Sinks;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ApplicationContext;
import org.springframework.core.io.InputStreamResource;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.client.RestClient;
import org.springframework.web.reactive.function.client.WebClient;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatException;

/**
 * Issue #9: hostile answers and awkward requests, each over loopback through the balanced
 * clients: garbage and conflicting retry hints, redirects (failures, never followed), missing
 * content types, bodies that can be read only once, very large bodies (and one above
 * {@code max-request-body}) and backends that do not speak HTTP.
 */
class HostileInputTests {

	private static final String CHAT = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21";

	@RegisterExtension
	final LoopbackBackends backends = new LoopbackBackends();

	private static final java.time.Instant START = java.time.Instant.parse("2026-01-01T00:00:00Z");

	private final MutableClock clock = new MutableClock(START);

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(BootLine.REST_CLIENT))
		.withConfiguration(AutoConfigurations.of(BootLine.WEB_CLIENT))
		.withConfiguration(AutoConfigurations.of(OpenAiLbAutoConfiguration.class, OpenAiLbClientsAutoConfiguration.class))
		.withPropertyValues("openai.lb.response-timeout=5s", "openai.lb.connect-timeout=1s",
				"openai.lb.default-retry-after=7s", "openai.lb.max-cool-down=90s")
		.withBean(LoadBalancerCustomizer.class, () -> (builder) -> builder.clock(this.clock)
			.circuitBreakers(CircuitBreakerRegistry.of(LoadBalancer.defaultBreakerConfig(this.clock))::circuitBreaker));

	static Stream<Arguments> hints() {
		String past = DateTimeFormatter.RFC_1123_DATE_TIME.format(START.atZone(ZoneOffset.UTC).minusHours(1));
		String farFuture = DateTimeFormatter.RFC_1123_DATE_TIME.format(START.atZone(ZoneOffset.UTC).plusYears(900));
		return Stream.of(
				// garbage falls back to default-retry-after (7s)
				Arguments.of(new String[] { "Retry-After", "-5" }, 7, 7),
				Arguments.of(new String[] { "Retry-After", "soon" }, 7, 7),
				Arguments.of(new String[] { "Retry-After", "" }, 7, 7),
				Arguments.of(new String[] { "retry-after-ms", "-100" }, 7, 7),
				Arguments.of(new String[] { "retry-after-ms", "NaN" }, 7, 7),
				Arguments.of(new String[] { "x-ratelimit-reset-tokens", "1x" }, 7, 7),
				// a date in the past asks for no wait: never more than the default, never 0
				Arguments.of(new String[] { "Retry-After", past }, 1, 7),
				// huge values are capped at max-cool-down (90s)
				Arguments.of(new String[] { "Retry-After", "99999999999" }, 90, 90),
				Arguments.of(new String[] { "Retry-After", farFuture }, 90, 90),
				Arguments.of(new String[] { "x-ratelimit-reset-requests", "6m0s" }, 90, 90),
				// too long to be a number: a fallback or the cap, never an error
				Arguments.of(new String[] { "Retry-After", "99999999999999999999999" }, 1, 90),
				// conflicting hints: the documented order decides, retry-after-ms before Retry-After
				Arguments.of(new String[] { "retry-after-ms", "3000", "Retry-After", "60" }, 3, 3),
				Arguments.of(new String[] { "Retry-After", "60", "x-ratelimit-reset-requests", "2s" }, 60, 60));
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("hints")
	void hostileRetryHintsNeverThrowAndStayWithinBounds(String[] headers, long min, long max) {
		WireMockServer a = this.backends.start();
		var answer = aResponse().withStatus(429).withBody("{\"error\":{\"code\":\"429\"}}");
		for (int i = 0; i < headers.length; i += 2) {
			answer.withHeader(headers[i], headers[i + 1]);
		}
		a.stubFor(post(anyUrl()).willReturn(answer));
		this.runner.withPropertyValues(backend(0, "a", a.baseUrl(), 1)).run((context) -> {
			ResponseEntity<String> entity = exchange(restClient(context));
			assertThat(entity.getStatusCode().value()).isEqualTo(429);
			assertThat(Long.parseLong(entity.getHeaders().getFirst("Retry-After"))).isBetween(min, max);
		});
	}

	@Test
	void duplicateRetryAfterHeadersUseTheFirst() {
		WireMockServer a = this.backends.start();
		a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(429).withHeader("Retry-After", "5", "60")));
		this.runner.withPropertyValues(backend(0, "a", a.baseUrl(), 1)).run((context) -> {
			ResponseEntity<String> entity = exchange(restClient(context));
			assertThat(entity.getHeaders().getFirst("Retry-After")).isEqualTo("5");
		});
	}

	@Test
	void aRedirectIsAFailureOfItsBackendNeverFollowedAndTheRequestFailsOver() {
		WireMockServer a = this.backends.start();
		WireMockServer b = this.backends.start();
		WireMockServer elsewhere = this.backends.start();
		a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(307).withHeader("Location", elsewhere.baseUrl() + "/x")));
		b.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(200).withBody("from b")));
		elsewhere.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(200).withBody("from elsewhere")));
		this.runner.withPropertyValues(backend(0, "a", a.baseUrl(), 1))
			.withPropertyValues("openai.lb.backends[0].api-key=key-of-a")
			.withPropertyValues(backend(1, "b", b.baseUrl(), 2))
			// even a customizer that asks for redirects to be followed cannot make the transport follow one
			.withBean(OpenAiLbHttpClientCustomizer.class, () -> (client) -> client.followRedirect(true))
			.run((context) -> {
				ResponseEntity<String> rest = exchange(restClient(context));
				assertThat(rest.getStatusCode().value()).isEqualTo(200);
				assertThat(rest.getBody()).isEqualTo("from b");
				this.clock.advance(Duration.ofMinutes(10));
				String reactive = webClient(context).post().uri(CHAT).bodyValue("{}").retrieve().bodyToMono(String.class)
					.block(Duration.ofSeconds(10));
				assertThat(reactive).isEqualTo("from b");
				assertThat(a.getAllServeEvents()).hasSize(2);
				// the key of a never went to where a pointed
				assertThat(elsewhere.getAllServeEvents()).isEmpty();
				LoadBalancer balancer = context.getBean(LoadBalancer.class);
				assertThat(balancer.backend("a").counts().failures()).isEqualTo(2);
				assertThat(balancer.backend("a").breaker().getMetrics().getNumberOfFailedCalls()).isEqualTo(2);
			});
	}

	@Test
	void whenEveryBackendRedirectsNoCallerGetsARedirectButAnErrorNamingThem() {
		WireMockServer a = this.backends.start();
		a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(302).withHeader("Location", "https://login.example/?token=s3cret")));
		this.runner.withPropertyValues(backend(0, "a", a.baseUrl(), 1)).run((context) -> assertThatException()
			.isThrownBy(() -> webClient(context).post().uri(CHAT).bodyValue("{}").retrieve().bodyToMono(String.class)
				.block(Duration.ofSeconds(10)))
			.havingRootCause()
			.isInstanceOf(NoBackendAnsweredException.class)
			.withMessageContaining("a: RefusedAnswerException (answered 302, a redirect, which is never followed)")
			.withMessageNotContaining("s3cret"));
	}

	@Test
	void answersWithoutContentTypeFailOverAndReachTheCaller() throws Exception {
		try (ScriptedBackend a = new ScriptedBackend((exchange, self) -> {
			exchange.sendResponseHeaders(503, -1);
		}); ScriptedBackend b = new ScriptedBackend((exchange, self) -> {
			byte[] body = "{\"from\":\"b\"}".getBytes(StandardCharsets.UTF_8);
			exchange.sendResponseHeaders(200, body.length);
			exchange.getResponseBody().write(body);
		})) {
			this.runner.withPropertyValues(backend(0, "a", a.url(), 1))
				.withPropertyValues(backend(1, "b", b.url(), 2))
				.run((context) -> {
					ResponseEntity<String> rest = restClient(context).post().uri(CHAT).body("{}").retrieve().toEntity(String.class);
					assertThat(rest.getBody()).isEqualTo("{\"from\":\"b\"}");
					assertThat(rest.getHeaders().getContentType()).isNull();
					this.clock.advance(Duration.ofMinutes(10));
					String reactive = webClient(context).post().uri(CHAT).bodyValue("{}").retrieve().bodyToMono(String.class)
						.block(Duration.ofSeconds(10));
					assertThat(reactive).isEqualTo("{\"from\":\"b\"}");
					assertThat(a.requests()).isEqualTo(2);
				});
		}
	}

	@Test
	void readOnceRequestBodiesAreReplayedOnFailover() throws Exception {
		byte[] payload = "{\"messages\":[{\"role\":\"user\",\"content\":\"once\"}]}".getBytes(StandardCharsets.UTF_8);
		try (DigestBackend a = new DigestBackend(503); DigestBackend b = new DigestBackend(200)) {
			this.runner.withPropertyValues(backend(0, "a", a.url(), 1))
				.withPropertyValues(backend(1, "b", b.url(), 2))
				.run((context) -> {
					// an InputStream can be read once
					String fromStream = restClient(context).post()
						.uri(CHAT)
						.contentType(MediaType.APPLICATION_JSON)
						.body(new InputStreamResource(new ByteArrayInputStream(payload)))
						.retrieve()
						.body(String.class);
					assertThat(fromStream).isEqualTo(sha256(payload));
					// a streaming body that refuses to be written twice
					this.clock.advance(Duration.ofMinutes(10));
					AtomicInteger writes = new AtomicInteger();
					String fromStreaming = restClient(context).post()
						.uri(CHAT)
						.contentType(MediaType.APPLICATION_JSON)
						.body((OutputStream out) -> {
							if (writes.incrementAndGet() > 1) {
								throw new IOException("written twice");
							}
							out.write(payload);
						})
						.retrieve()
						.body(String.class);
					assertThat(fromStreaming).isEqualTo(sha256(payload));
					// a Flux that can be subscribed once
					this.clock.advance(Duration.ofMinutes(10));
					Sinks.Many<String> once = Sinks.many().unicast().onBackpressureBuffer();
					once.tryEmitNext("{\"messages\":[{\"role\":\"user\",");
					once.tryEmitNext("\"content\":\"once\"}]}");
					once.tryEmitComplete();
					String fromFlux = webClient(context).post()
						.uri(CHAT)
						.contentType(MediaType.APPLICATION_JSON)
						.body(once.asFlux(), String.class)
						.retrieve()
						.bodyToMono(String.class)
						.block(Duration.ofSeconds(10));
					assertThat(fromFlux).isEqualTo(sha256(payload));
					assertThat(a.requests()).isEqualTo(3);
					assertThat(a.digests()).containsOnly(sha256(payload));
				});
		}
	}

	@Test
	void aTwentyMegabyteRequestIsReplayedByteForByte() throws Exception {
		byte[] payload = new byte[20 * 1024 * 1024];
		new Random(9).nextBytes(payload);
		try (DigestBackend a = new DigestBackend(502); DigestBackend b = new DigestBackend(200)) {
			this.runner.withPropertyValues(backend(0, "a", a.url(), 1))
				.withPropertyValues(backend(1, "b", b.url(), 2))
				.run((context) -> {
					String digest = restClient(context).post()
						.uri(CHAT)
						.contentType(MediaType.APPLICATION_OCTET_STREAM)
						.body(payload)
						.retrieve()
						.body(String.class);
					assertThat(digest).isEqualTo(sha256(payload));
					assertThat(a.digests()).containsExactly(sha256(payload));
				});
		}
	}

	@Test
	void aFiftyMegabyteResponseIsStreamedThroughToBothClients() throws Exception {
		long size = 50L * 1024 * 1024;
		try (ScriptedBackend a = new ScriptedBackend((exchange, self) -> {
			exchange.getResponseHeaders().set("Content-Type", "application/octet-stream");
			exchange.sendResponseHeaders(200, 0);
			byte[] chunk = new byte[64 * 1024];
			OutputStream out = exchange.getResponseBody();
			for (long sent = 0; sent < size; sent += chunk.length) {
				out.write(chunk);
			}
		})) {
			this.runner.withPropertyValues(backend(0, "a", a.url(), 1)).run((context) -> {
				// each chunk is released as it arrives: the body is never held whole
				Long reactive = webClient(context).post()
					.uri(CHAT)
					.bodyValue("{}")
					.retrieve()
					.bodyToFlux(DataBuffer.class)
					.map((buffer) -> {
						long n = buffer.readableByteCount();
						DataBufferUtils.release(buffer);
						return n;
					})
					.reduce(0L, Long::sum)
					.block(Duration.ofSeconds(60));
				assertThat(reactive).isEqualTo(size);
				Long blocking = restClient(context).post().uri(CHAT).body("{}").exchange((request, response) -> {
					long total = 0;
					byte[] buffer = new byte[64 * 1024];
					try (InputStream in = response.getBody()) {
						for (int n; (n = in.read(buffer)) != -1;) {
							total += n;
						}
					}
					return total;
				});
				assertThat(blocking).isEqualTo(size);
			});
		}
	}

	@Test
	void backendsThatCloseWithoutAStatusLineFailOver() throws Exception {
		try (RawBackend silent = new RawBackend((socket) -> {
		}); RawBackend garbage = new RawBackend((socket) -> {
			socket.getOutputStream().write("SSH-2.0-OpenSSH_9.6\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
			socket.getOutputStream().flush();
		}); ScriptedBackend ok = new ScriptedBackend((exchange, self) -> {
			byte[] body = "{\"from\":\"ok\"}".getBytes(StandardCharsets.UTF_8);
			exchange.sendResponseHeaders(200, body.length);
			exchange.getResponseBody().write(body);
		})) {
			this.runner.withPropertyValues(backend(0, "silent", silent.url(), 1))
				.withPropertyValues(backend(1, "garbage", garbage.url(), 2))
				.withPropertyValues(backend(2, "ok", ok.url(), 3))
				.run((context) -> {
					String body = restClient(context).post().uri(CHAT).body("{}").retrieve().body(String.class);
					assertThat(body).isEqualTo("{\"from\":\"ok\"}");
					assertThat(silent.requests()).isEqualTo(1);
					assertThat(garbage.requests()).isEqualTo(1);
				});
			this.runner.withPropertyValues(backend(0, "silent", silent.url(), 1))
				.withPropertyValues(backend(1, "garbage", garbage.url(), 2))
				.run((context) -> assertThatException()
					.isThrownBy(() -> webClient(context).post().uri(CHAT).bodyValue("{}").retrieve().bodyToMono(String.class)
						.block(Duration.ofSeconds(20)))
					.havingRootCause()
					.isInstanceOf(NoBackendAnsweredException.class)
					.withMessageContaining("silent")
					.withMessageContaining("garbage"));
		}
	}

	@Test
	void noBackendToTryIsAnErrorNamingEachBackendAndItsState() {
		this.runner.withPropertyValues(backend(0, "east", "http://127.0.0.1:9", 1))
			.withPropertyValues("openai.lb.backends[0].enabled=false")
			.run((context) -> assertThatException()
				.isThrownBy(() -> webClient(context).post().uri(CHAT).bodyValue("{}").retrieve().bodyToMono(String.class)
					.block(Duration.ofSeconds(10)))
				.havingRootCause()
				.isInstanceOf(NoBackendAnsweredException.class)
				.withMessageContaining("east: DISABLED"));
	}

	private static ResponseEntity<String> exchange(RestClient client) {
		return client.post()
			.uri(CHAT)
			.body("{}")
			.exchange((request, response) -> ResponseEntity.status(response.getStatusCode())
				.headers(response.getHeaders())
				.body(new String(response.getBody().readAllBytes(), StandardCharsets.UTF_8)));
	}

	private static RestClient restClient(ApplicationContext context) {
		return context.getBean("openAiLbRestClient", RestClient.class);
	}

	private static WebClient webClient(ApplicationContext context) {
		return context.getBean("openAiLbWebClient", WebClient.class);
	}

	private static String[] backend(int index, String name, String url, int priority) {
		String prefix = "openai.lb.backends[" + index + "].";
		return new String[] { prefix + "name=" + name, prefix + "url=" + url, prefix + "priority=" + priority };
	}

	static String sha256(byte[] bytes) {
		try {
			return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
		}
		catch (java.security.NoSuchAlgorithmException ex) {
			throw new IllegalStateException(ex);
		}
	}

	/** Answers with the SHA-256 of the request body it received, under the given status. */
	static final class DigestBackend implements AutoCloseable {

		private final HttpServer server;

		private final java.util.List<String> digests = new java.util.concurrent.CopyOnWriteArrayList<>();

		DigestBackend(int status) throws IOException {
			this.server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
			this.server.setExecutor(Executors.newCachedThreadPool());
			this.server.createContext("/", (exchange) -> {
				String digest = sha256(exchange.getRequestBody().readAllBytes());
				this.digests.add(digest);
				byte[] body = digest.getBytes(StandardCharsets.US_ASCII);
				exchange.sendResponseHeaders(status, body.length);
				exchange.getResponseBody().write(body);
				exchange.close();
			});
			this.server.start();
		}

		String url() {
			return "http://127.0.0.1:" + this.server.getAddress().getPort();
		}

		int requests() {
			return this.digests.size();
		}

		java.util.List<String> digests() {
			return this.digests;
		}

		@Override
		public void close() {
			this.server.stop(0);
		}

	}

}
