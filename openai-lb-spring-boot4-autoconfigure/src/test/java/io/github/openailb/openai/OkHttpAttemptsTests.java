package io.github.openailb.openai;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPOutputStream;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import com.sun.net.httpserver.HttpServer;
import io.github.openailb.autoconfigure.OpenAiLbAutoConfiguration;
import io.github.openailb.autoconfigure.OpenAiLbSpringAiAutoConfiguration;
import io.github.openailb.auth.AuthHeader;
import io.github.openailb.auth.BackendCredentialException;
import io.github.openailb.auth.BackendCredentials;
import io.github.openailb.core.Backend;
import io.github.openailb.core.BackendState;
import io.github.openailb.core.LoadBalancer;
import io.github.openailb.testsupport.Awaits;
import io.github.openailb.testsupport.LoopbackBackends;
import io.github.openailb.testsupport.PersistentBackend;
import io.github.openailb.testsupport.RawBackend;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ApplicationContext;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static io.github.openailb.transport.BalancingClientHttpConnector.BASE_URL;
import static io.github.openailb.transport.BalancingClientHttpConnector.MARK_HEADER;
import static io.github.openailb.transport.BalancingClientHttpConnector.THROTTLED_MARK;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * The OpenAI SDK's path, attempt by attempt, against hostile backends over real loopback HTTP: a
 * plain {@link OkHttpClient} whose application interceptor is the {@link BalancingOkHttpInterceptor}
 * bean, as Spring AI 2 builds the SDK's client. These tests define what the interceptor does,
 * whatever carries its attempts (the shared Reactor Netty transport, or OkHttp itself): the
 * caller's body and headers go out with each backend's own key, failover happens within one call
 * (429, 5xx, redirects never followed, interim or unsafe status lines, a head that trickles), a
 * body that trickles is cut at {@code max-duration}, a caller that gives up blames no backend, and
 * no backend key ever shows in an exception.
 */
class OkHttpAttemptsTests {

	private static final String CHAT_PATH = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21";

	private static final String CHAT = BASE_URL + CHAT_PATH;

	private static final MediaType JSON = MediaType.get("application/json");

	private static final String CALLER_KEY = "caller-own-key-0c5e1d";

	private static final String CALLER_TOKEN = "caller-own-token-77ab20";

	/** Nothing the interceptor makes should take longer than this, however hostile the backend. */
	private static final Duration BOUND = Duration.ofSeconds(5);

	@RegisterExtension
	final LoopbackBackends wireMocks = new LoopbackBackends();

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(OpenAiLbAutoConfiguration.class, OpenAiLbSpringAiAutoConfiguration.class))
		.withPropertyValues("openai.lb.connect-timeout=1s", "openai.lb.response-timeout=5s");

	@Test
	void aSuccessCarriesTheCallersBodyByteForByteWithTheBackendsOwnKeyAndReturnsStatusHeadersAndBody() throws Exception {
		WireMockServer a = this.wireMocks.start();
		a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(200)
			.withHeader("Content-Type", "application/json")
			.withHeader("x-backend", "a")
			.withHeader("x-request-id", "req-1")
			.withBody("{\"id\":\"chatcmpl-1\",\"choices\":[{\"message\":{\"content\":\"h\u00e9llo\"}}]}")));
		byte[] payload = payload(2_000);
		this.runner.withPropertyValues(backend(0, "a", a.baseUrl(), 1)).run((context) -> {
			Request request = chat(payload).newBuilder()
				.header("api-key", CALLER_KEY)
				.header("Authorization", "Bearer " + CALLER_TOKEN)
				.header("x-ms-client-request-id", "trace-1")
				.build();
			try (Response response = client(context).newCall(request).execute()) {
				assertThat(response.code()).isEqualTo(200);
				assertThat(response.header("x-backend")).isEqualTo("a");
				assertThat(response.header("x-request-id")).isEqualTo("req-1");
				assertThat(response.header("Content-Type")).startsWith("application/json");
				assertThat(new String(response.body().bytes(), StandardCharsets.UTF_8))
					.isEqualTo("{\"id\":\"chatcmpl-1\",\"choices\":[{\"message\":{\"content\":\"h\u00e9llo\"}}]}");
			}
			LoggedRequest received = only(a);
			assertThat(received.getUrl()).isEqualTo(CHAT_PATH);
			assertThat(received.getBody()).isEqualTo(payload);
			assertThat(received.getHeader("api-key")).isEqualTo(key("a"));
			assertThat(received.containsHeader("Authorization")).isFalse();
			assertThat(received.getHeader("x-ms-client-request-id")).isEqualTo("trace-1");
			assertThat(received.getHeaders().toString()).doesNotContain(CALLER_KEY).doesNotContain(CALLER_TOKEN);
		});
	}

	/**
	 * A credential that is not known up front (an Entra ID token being fetched) is awaited, also
	 * when the SDK is called on a Reactor thread, where blocking on a Mono is refused; one that
	 * fails fails the request over like a 401 and marks its backend misconfigured.
	 */
	@Test
	void credentialsThatComeLaterAreAwaitedEvenOnAReactorThreadAndOneThatFailsFailsOver() throws Exception {
		WireMockServer a = this.wireMocks.start();
		WireMockServer b = this.wireMocks.start();
		a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(200).withBody("from a")));
		b.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(200).withBody("from b")));
		BackendCredentials tokens = (backend) -> switch (backend.name()) {
			case "a" -> Mono.error(new BackendCredentialException("no token for a", null));
			case "odd" -> Mono.just(new AuthHeader("api-key", "odd-secret\n-key"));
			default -> Mono.delay(Duration.ofMillis(20)).map((tick) -> new AuthHeader("Authorization", "Bearer token-b"));
		};
		WireMockServer odd = this.wireMocks.start();
		this.runner.withPropertyValues(backend(0, "a", a.baseUrl(), 1))
			.withPropertyValues(backend(1, "odd", odd.baseUrl(), 2))
			.withPropertyValues(backend(2, "b", b.baseUrl(), 3))
			.withBean(BackendCredentials.class, () -> tokens)
			.run((context) -> {
				OkHttpClient client = client(context);
				String body = Mono.fromCallable(() -> {
					try (Response response = client.newCall(chat(payload(100))).execute()) {
						return response.body().string();
					}
				}).subscribeOn(Schedulers.parallel()).block(BOUND);
				assertThat(body).isEqualTo("from b");
				assertThat(only(b).getHeader("Authorization")).isEqualTo("Bearer token-b");
				assertThat(a.getAllServeEvents()).isEmpty();
				assertThat(odd.getAllServeEvents()).isEmpty();
				LoadBalancer balancer = context.getBean(LoadBalancer.class);
				assertThat(balancer.backend("a").counts().misconfigured()).isOne();
				// a credential no header may carry fails over too, and its reason does not quote it
				assertThat(balancer.backend("odd").counts().misconfigured()).isOne();
				assertThat(balancer.backend("odd").misconfiguration()).contains("not a valid HTTP header value")
					.doesNotContain("odd-secret");
			});
	}

	@Test
	void a429AndA500FailOverWithinOneCallReplayingTheBodyByteForByte() throws Exception {
		WireMockServer a = this.wireMocks.start();
		WireMockServer b = this.wireMocks.start();
		WireMockServer c = this.wireMocks.start();
		a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(429).withHeader("Retry-After", "30")
			.withBody("{\"error\":{\"code\":\"429\"}}")));
		b.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(500).withBody("{\"error\":{\"code\":\"500\"}}")));
		c.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(200).withBody("from c")));
		// larger than any one read or write buffer, so it is replayed in pieces
		byte[] payload = payload(300_000);
		this.runner.withPropertyValues(backend(0, "a", a.baseUrl(), 1))
			.withPropertyValues(backend(1, "b", b.baseUrl(), 2))
			.withPropertyValues(backend(2, "c", c.baseUrl(), 3))
			.run((context) -> {
				long start = System.nanoTime();
				try (Response response = client(context).newCall(chat(payload)).execute()) {
					assertThat(response.code()).isEqualTo(200);
					assertThat(response.body().string()).isEqualTo("from c");
				}
				assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(BOUND);
				for (WireMockServer server : List.of(a, b, c)) {
					assertThat(only(server).getBody()).isEqualTo(payload);
				}
				assertThat(only(c).getHeader("api-key")).isEqualTo(key("c"));
				LoadBalancer balancer = context.getBean(LoadBalancer.class);
				assertThat(balancer.backend("a").state()).isEqualTo(BackendState.COOLING_DOWN);
				assertThat(balancer.backend("a").counts().throttled()).isOne();
				assertThat(balancer.backend("b").counts().failures()).isOne();
				assertThat(balancer.backend("c").counts().successes()).isOne();
			});
	}

	@ParameterizedTest(name = "{0}")
	@ValueSource(ints = { 301, 302, 303, 307, 308 })
	void aRedirectIsNeverFollowedAndTheCallFailsOver(int status) throws Exception {
		WireMockServer a = this.wireMocks.start();
		WireMockServer b = this.wireMocks.start();
		WireMockServer elsewhere = this.wireMocks.start();
		a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(status).withHeader("Location", elsewhere.baseUrl() + "/x")));
		b.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(200).withBody("from b")));
		elsewhere.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(200).withBody("from elsewhere")));
		elsewhere.stubFor(get(anyUrl())
			.willReturn(aResponse().withStatus(200).withBody("from elsewhere")));
		this.runner.withPropertyValues(backend(0, "a", a.baseUrl(), 1))
			.withPropertyValues(backend(1, "b", b.baseUrl(), 2))
			.run((context) -> {
				// a client that follows redirects itself (OkHttp's default) still never sees one
				try (Response response = client(context).newCall(chat(payload(100))).execute()) {
					assertThat(response.code()).isEqualTo(200);
					assertThat(response.body().string()).isEqualTo("from b");
				}
				assertThat(a.getAllServeEvents()).hasSize(1);
				assertThat(elsewhere.getAllServeEvents()).isEmpty();
				assertThat(context.getBean(LoadBalancer.class).backend("a").counts().failures()).isOne();
			});
	}

	@Test
	void whenEveryBackendRedirectsTheCallerGetsAnIOExceptionAndNoRedirectIsFollowed() throws Exception {
		WireMockServer a = this.wireMocks.start();
		WireMockServer b = this.wireMocks.start();
		WireMockServer elsewhere = this.wireMocks.start();
		a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(302)
			.withHeader("Location", elsewhere.baseUrl() + "/login?token=s3cret")));
		b.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(307)
			.withHeader("Location", elsewhere.baseUrl() + "/other?token=s3cret")));
		elsewhere.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(200).withBody("from elsewhere")));
		this.runner.withPropertyValues(backend(0, "a", a.baseUrl(), 1))
			.withPropertyValues(backend(1, "b", b.baseUrl(), 2))
			.run((context) -> {
				IOException failure = failsWithin(BOUND, client(context).newCall(chat(payload(100))));
				assertNoSecret(failure);
				assertThat(trace(failure)).doesNotContain("s3cret");
				assertThat(a.getAllServeEvents()).hasSize(1);
				assertThat(b.getAllServeEvents()).hasSize(1);
				assertThat(elsewhere.getAllServeEvents()).isEmpty();
			});
	}

	@ParameterizedTest(name = "{0}")
	@ValueSource(strings = { "100 Continue", "102 Processing", "103 Early Hints\r\nLink: </hint.css>; rel=preload" })
	void anInterimAnswerBeforeTheFinalOneIsSkippedAndEachCallGetsItsOwnAnswer(String interim) throws Exception {
		try (PersistentBackend a = new PersistentBackend((request, out) -> {
			writeInterims(out, interim);
			PersistentBackend.answer(out, 200, "application/json", echo(request.body()));
		})) {
			this.runner.withPropertyValues(backend(0, "a", a.url(), 1)).run((context) -> {
				OkHttpClient client = client(context);
				// one after another: on a kept-alive connection, an interim answer taken for the final
				// one would hand each call the answer of the one before
				for (int i = 0; i < 5; i++) {
					try (Response response = client.newCall(chat(idBody("call-" + i))).execute()) {
						assertThat(response.code()).isEqualTo(200);
						assertThat(response.body().string()).isEqualTo("{\"id\":\"call-" + i + "\"}");
					}
				}
				assertThat(a.requests()).isEqualTo(5);
				assertThat(context.getBean(LoadBalancer.class).backend("a").counts().failures()).isZero();
			});
		}
	}

	/**
	 * OkHttp 4 reads one interim answer before the final one; on a second it fails (in its own
	 * parser), so a run of them fails the attempt, closes its connection and fails over: a caller
	 * never gets an interim answer, nor one meant for another call.
	 */
	@ParameterizedTest(name = "{0}")
	@ValueSource(strings = { "100 Continue|103 Early Hints\r\nLink: </hint.css>; rel=preload",
			"102 Processing|103 Early Hints\r\nLink: </a.css>; rel=preload|103 Early Hints\r\nLink: </b.css>; rel=preload" })
	void aRunOfInterimAnswersFailsTheAttemptClosesItsConnectionAndFailsOver(String interims) throws Exception {
		failsOverFromOddBackend((request, out) -> {
			writeInterims(out, interims);
			PersistentBackend.answer(out, 200, "application/json", "{\"id\":\"from odd\"}".getBytes(StandardCharsets.UTF_8));
		});
	}

	private static void writeInterims(OutputStream out, String interims) throws IOException {
		for (String interim : interims.split("\\|")) {
			out.write(("HTTP/1.1 " + interim + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
			out.flush();
		}
	}

	@ParameterizedTest(name = "{0}")
	@ValueSource(strings = { "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade",
			"HTTP/1.1 600 Beyond", "HTTP/1.1 099 Below", "HTTP/1.1 2OO Letters", "HTTP/1.1200OK", "SSH-2.0-OpenSSH_9.6" })
	void aSwitchOfProtocolsOrAMalformedStatusLineFailsTheAttemptClosesItsConnectionAndFailsOver(String head)
			throws Exception {
		// a response timeout far above the bound: waiting for it is not failing the attempt
		failsOverFromOddBackend((request, out) -> {
			out.write((head + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
			out.flush();
			// then nothing more: the balancer must close the connection itself
		}, "openai.lb.response-timeout=20s");
	}

	@Test
	void aBackendTricklingItsHeadIsBoundedInTotalTimeAndTheCallFailsOver() throws Exception {
		// never silent for a second, yet some 16 s before its head would end
		failsOverFromOddBackend((request, out) -> trickle(out,
				"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 14\r\n\r\n{\"id\":\"slow\"}", 200),
				"openai.lb.response-timeout=1s");
	}

	/**
	 * Start the call on a thread of its own, cancel it once {@code ready} holds, and return the
	 * {@link IOException} it ends with, which it must within the bound.
	 */
	private static IOException cancelledOnce(okhttp3.Call call, BooleanSupplier ready, String what) throws Exception {
		ExecutorService caller = Executors.newSingleThreadExecutor();
		try {
			Future<Response> answer = caller.submit(call::execute);
			Awaits.until(BOUND, ready, what);
			long start = System.nanoTime();
			call.cancel();
			ExecutionException ended = catchThrowableOfType(ExecutionException.class,
					() -> answer.get(BOUND.toSeconds(), TimeUnit.SECONDS));
			assertThat(ended).as("the cancelled call ends with an exception").isNotNull();
			assertThat(ended.getCause()).isInstanceOf(IOException.class);
			assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(BOUND);
			return (IOException) ended.getCause();
		}
		finally {
			caller.shutdownNow();
		}
	}

	/**
	 * A call to an odd first backend and a fine second one gets the second's answer within the
	 * bound; the odd one was tried once (never retried on the same backend), blamed in its counts
	 * and breaker, and its connection closed.
	 */
	private void failsOverFromOddBackend(PersistentBackend.Script odd, String... properties) throws Exception {
		try (PersistentBackend first = new PersistentBackend(odd);
				PersistentBackend fine = new PersistentBackend((request, out) -> PersistentBackend.answer(out, 200,
						"application/json", echo(request.body())))) {
			this.runner.withPropertyValues(backend(0, "odd", first.url(), 1))
				.withPropertyValues(backend(1, "fine", fine.url(), 2))
				.withPropertyValues(properties)
				.run((context) -> {
					long start = System.nanoTime();
					try (Response response = client(context).newCall(chat(idBody("x"))).execute()) {
						assertThat(response.code()).isEqualTo(200);
						assertThat(response.body().string()).isEqualTo("{\"id\":\"x\"}");
					}
					assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(BOUND);
					assertThat(first.requests()).isOne();
					Backend backend = context.getBean(LoadBalancer.class).backend("odd");
					assertThat(backend.counts().failures()).isOne();
					assertThat(backend.breaker().getMetrics().getNumberOfFailedCalls()).isOne();
					Awaits.until(BOUND, () -> first.openConnections() == 0, "the odd backend's connection is closed");
				});
		}
	}

	@Test
	void aBodyTricklingAfterA200IsCutAtMaxDurationWithAnIOExceptionAndItsBackendIsBlamed() throws Exception {
		String body = "{\"choices\":[{\"message\":{\"content\":\"a slow, slow, slow answer\"}}]}";
		try (PersistentBackend slow = new PersistentBackend((request, out) -> {
			out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + body.length() + "\r\n\r\n")
				.getBytes(StandardCharsets.US_ASCII));
			out.flush();
			// some 14 s in all, never silent for long
			trickle(out, body, 200);
		})) {
			// a response timeout far above max-duration: only the request's total bound can end it in time
			this.runner.withPropertyValues(backend(0, "slow", slow.url(), 1))
				.withPropertyValues("openai.lb.response-timeout=10s", "openai.lb.max-duration=2s")
				.run((context) -> {
					long start = System.nanoTime();
					try (Response response = client(context).newCall(chat(idBody("b"))).execute()) {
						assertThat(response.code()).isEqualTo(200);
						IOException failure = catchThrowableOfType(IOException.class, () -> response.body().bytes());
						assertThat(failure).as("reading the trickling body").isNotNull();
						assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(BOUND);
						assertThat(trace(failure)).contains("max-duration");
						assertNoSecret(failure);
					}
					// its head was a success; the broken body is a failure in its breaker
					Backend backend = context.getBean(LoadBalancer.class).backend("slow");
					Awaits.until(BOUND, () -> backend.breaker().getMetrics().getNumberOfFailedCalls() == 1,
							"the trickling backend is blamed in its breaker");
					Awaits.until(BOUND, () -> slow.openConnections() == 0, "the trickling backend's connection is closed");
				});
		}
	}

	@Test
	void aGzippedAnswerReachesACallerThatDidNotAskForGzipDecoded() throws Exception {
		String json = "{\"id\":\"chatcmpl-gz\",\"choices\":[{\"message\":{\"content\":\"" + "zip ".repeat(500) + "\"}}]}";
		byte[] gzipped = gzip(json.getBytes(StandardCharsets.UTF_8));
		try (PersistentBackend a = new PersistentBackend((request, out) -> PersistentBackend.answer(out, 200,
				"application/json", gzipped, "Content-Encoding", "gzip"))) {
			this.runner.withPropertyValues(backend(0, "a", a.url(), 1)).run((context) -> {
				for (int i = 0; i < 2; i++) {
					try (Response response = client(context).newCall(chat(idBody("g"))).execute()) {
						assertThat(response.code()).isEqualTo(200);
						// bytes() also checks the body against any Content-Length the caller is given
						assertThat(new String(response.body().bytes(), StandardCharsets.UTF_8)).isEqualTo(json);
						assertThat(response.header("Content-Encoding")).isNull();
					}
				}
			});
		}
	}

	@Test
	void anErrorBodyAboveQuarterOfAMegabyteOnA500StillFailsOverCleanly() throws Exception {
		byte[] big = new byte[1024 * 1024];
		new Random(5).nextBytes(big);
		try (PersistentBackend a = new PersistentBackend((request, out) -> PersistentBackend.answer(out, 500,
				"application/octet-stream", big));
				PersistentBackend b = new PersistentBackend((request, out) -> PersistentBackend.answer(out, 200,
						"application/json", echo(request.body())))) {
			this.runner.withPropertyValues(backend(0, "a", a.url(), 1))
				.withPropertyValues(backend(1, "b", b.url(), 2))
				.run((context) -> {
					OkHttpClient client = client(context);
					// twice: whatever became of a's connection, the second call is not disturbed by it
					for (int i = 0; i < 2; i++) {
						long start = System.nanoTime();
						try (Response response = client.newCall(chat(idBody("big-" + i))).execute()) {
							assertThat(response.code()).isEqualTo(200);
							assertThat(response.body().string()).isEqualTo("{\"id\":\"big-" + i + "\"}");
						}
						assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(BOUND);
					}
					assertThat(a.requests()).isEqualTo(2);
					assertThat(context.getBean(LoadBalancer.class).backend("a").counts().failures()).isEqualTo(2);
				});
		}
	}

	@Test
	void aCallerThatGivesUpWhileTheRequestWaitsForACoolingBackendEndsPromptlyWithoutAnotherAttempt() throws Exception {
		WireMockServer a = this.wireMocks.start();
		a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(429).withHeader("Retry-After", "8")
			.withBody("{\"error\":{\"code\":\"429\"}}")));
		this.runner.withPropertyValues(backend(0, "a", a.baseUrl(), 1))
			.withPropertyValues("openai.lb.max-wait=20s")
			.run((context) -> {
				// throttled once: the request then waits some 8 s for a to cool down
				cancelledOnce(client(context).newCall(chat(idBody("waiting"))),
						() -> a.getAllServeEvents().size() == 1, "the first attempt was answered");
				assertThat(a.getAllServeEvents()).hasSize(1);
			});
	}

	@ParameterizedTest(name = "{0}")
	@ValueSource(strings = { "cancel", "callTimeout" })
	void aCallerThatGivesUpEndsPromptlyClosesTheBackendsConnectionAndBlamesNoBackend(String how) throws Exception {
		CountDownLatch arrived = new CountDownLatch(1);
		CountDownLatch closed = new CountDownLatch(1);
		try (RawBackend hung = new RawBackend((socket) -> {
			arrived.countDown();
			try {
				// say nothing; read until the balancer closes the connection
				InputStream in = socket.getInputStream();
				while (in.read() != -1) {
					// the rest of the request body
				}
			}
			finally {
				closed.countDown();
			}
		})) {
			WireMockServer b = this.wireMocks.start();
			b.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(200).withBody("from b")));
			this.runner.withPropertyValues(backend(0, "hung", hung.url(), 1))
				.withPropertyValues(backend(1, "b", b.baseUrl(), 2))
				.withPropertyValues("openai.lb.response-timeout=30s")
				.run((context) -> {
					IOException failure;
					if (how.equals("cancel")) {
						failure = cancelledOnce(client(context).newCall(chat(idBody("gone"))),
								() -> arrived.getCount() == 0, "the request arrived");
					}
					else {
						OkHttpClient client = client(context).newBuilder().callTimeout(Duration.ofSeconds(1)).build();
						failure = failsWithin(BOUND, client.newCall(chat(idBody("gone"))));
						assertThat(arrived.await(BOUND.toSeconds(), TimeUnit.SECONDS)).as("the request arrived").isTrue();
					}
					assertNoSecret(failure);
					assertThat(closed.await(BOUND.toSeconds(), TimeUnit.SECONDS)).as("the backend's connection is closed")
						.isTrue();
					Backend backend = context.getBean(LoadBalancer.class).backend("hung");
					assertThat(backend.state()).isEqualTo(BackendState.AVAILABLE);
					assertThat(backend.counts().failures()).isZero();
					assertThat(backend.breaker().getMetrics().getNumberOfFailedCalls()).isZero();
					// the caller is gone: nothing fails over on its behalf
					assertThat(b.getAllServeEvents()).isEmpty();
					assertThat(hung.requests()).isOne();
				});
		}
	}

	@Test
	void whenEveryBackendIsThrottledTheCallerGetsTheSynthetic429WithRetryAfter() throws Exception {
		WireMockServer a = this.wireMocks.start();
		WireMockServer b = this.wireMocks.start();
		a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(429).withHeader("Retry-After", "30")));
		b.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(429).withHeader("Retry-After", "20")));
		this.runner.withPropertyValues(backend(0, "a", a.baseUrl(), 1))
			.withPropertyValues(backend(1, "b", b.baseUrl(), 2))
			.run((context) -> {
				long start = System.nanoTime();
				try (Response response = client(context).newCall(chat(payload(100))).execute()) {
					assertThat(response.code()).isEqualTo(429);
					assertThat(Long.parseLong(response.header("Retry-After"))).isBetween(1L, 20L);
					assertThat(response.header(MARK_HEADER)).isEqualTo(THROTTLED_MARK);
					assertThat(response.body().string()).contains("\"error\"");
				}
				assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(BOUND);
				assertThat(a.getAllServeEvents()).hasSize(1);
				assertThat(b.getAllServeEvents()).hasSize(1);
			});
	}

	@Test
	void whenEveryBackendAnswers500TheCallerGetsTheLast500() throws Exception {
		WireMockServer a = this.wireMocks.start();
		WireMockServer b = this.wireMocks.start();
		a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(500).withHeader("x-backend", "a").withBody("from a")));
		b.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(500).withHeader("x-backend", "b").withBody("from b")));
		this.runner.withPropertyValues(backend(0, "a", a.baseUrl(), 1))
			.withPropertyValues(backend(1, "b", b.baseUrl(), 2))
			.run((context) -> {
				try (Response response = client(context).newCall(chat(payload(100))).execute()) {
					assertThat(response.code()).isEqualTo(500);
					assertThat(response.header("x-backend")).isEqualTo("b");
					assertThat(response.header(MARK_HEADER)).isNull();
					assertThat(response.body().string()).isEqualTo("from b");
				}
				assertThat(a.getAllServeEvents()).hasSize(1);
				assertThat(b.getAllServeEvents()).hasSize(1);
			});
	}

	@Test
	void aRequestBodyAboveMaxRequestBodyFailsNamingThePropertyAndNoBackendIsCalled() throws Exception {
		WireMockServer a = this.wireMocks.start();
		a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(200).withBody("from a")));
		this.runner.withPropertyValues(backend(0, "a", a.baseUrl(), 1))
			.withPropertyValues("openai.lb.max-request-body=1KB")
			.run((context) -> {
				IOException failure = failsWithin(BOUND, client(context).newCall(chat(payload(4_096))));
				assertThat(failure).hasMessageContaining("openai.lb.max-request-body");
				assertNoSecret(failure);
				assertThat(a.getAllServeEvents()).isEmpty();
				assertThat(context.getBean(LoadBalancer.class).backend("a").counts().attempts()).isZero();
			});
	}

	@Test
	void noBackendKeyShowsInTheErrorWhenEveryBackendFailsBelowHttp() throws Exception {
		try (RawBackend garbage = new RawBackend((socket) -> {
			socket.getOutputStream().write("SSH-2.0-OpenSSH_9.6\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
			socket.getOutputStream().flush();
		}); RawBackend silent = new RawBackend((socket) -> {
		})) {
			this.runner.withPropertyValues(backend(0, "refusing", LoopbackBackends.refusingUrl(), 1))
				.withPropertyValues(backend(1, "silent", silent.url(), 2))
				.withPropertyValues(backend(2, "garbage", garbage.url(), 3))
				.run((context) -> {
					Request request = chat(payload(100)).newBuilder()
						.header("api-key", CALLER_KEY)
						.header("Authorization", "Bearer " + CALLER_TOKEN)
						.build();
					IOException failure = failsWithin(BOUND, client(context).newCall(request));
					assertNoSecret(failure);
					assertThat(silent.requests()).isOne();
				});
		}
	}

	@Test
	void manyConcurrentCallersEachGetExactlyTheirOwnAnswer() throws Exception {
		int callers = 32;
		int rounds = 10;
		try (EchoBackend a = new EchoBackend();
				PersistentBackend b = new PersistentBackend((request, out) -> {
					// an interim answer first: taken for the final one, answers would cross on the connection
					out.write("HTTP/1.1 103 Early Hints\r\nLink: </hint.css>; rel=preload\r\n\r\n"
						.getBytes(StandardCharsets.US_ASCII));
					PersistentBackend.answer(out, 200, "application/json", echo(request.body()));
				})) {
			this.runner.withPropertyValues(backend(0, "a", a.url(), 1))
				.withPropertyValues(backend(1, "b", b.url(), 1))
				.run((context) -> {
					OkHttpClient client = client(context);
					ExecutorService threads = Executors.newFixedThreadPool(callers);
					CountDownLatch go = new CountDownLatch(1);
					try {
						List<Future<List<String>>> verdicts = new ArrayList<>();
						for (int t = 0; t < callers; t++) {
							int thread = t;
							verdicts.add(threads.submit(() -> {
								go.await();
								List<String> wrong = new ArrayList<>();
								for (int r = 0; r < rounds; r++) {
									String id = "t" + thread + "-r" + r;
									try (Response response = client.newCall(chat(idBody(id))).execute()) {
										String body = response.body().string();
										if (response.code() != 200 || !body.equals("{\"id\":\"" + id + "\"}")) {
											wrong.add(id + " got " + response.code() + " " + body);
										}
									}
									catch (IOException ex) {
										wrong.add(id + " failed: " + ex);
									}
								}
								return wrong;
							}));
						}
						go.countDown();
						List<String> wrong = new ArrayList<>();
						for (Future<List<String>> verdict : verdicts) {
							wrong.addAll(verdict.get(60, TimeUnit.SECONDS));
						}
						assertThat(wrong).as("callers that did not get exactly their own answer").isEmpty();
						assertThat(a.requests() + b.requests()).isEqualTo(callers * rounds);
					}
					finally {
						threads.shutdownNow();
					}
				});
		}
	}

	// fixtures

	/** A plain OkHttp client ending in the interceptor, as Spring AI builds the SDK's; bounded so nothing hangs. */
	private static OkHttpClient client(ApplicationContext context) {
		return new OkHttpClient.Builder().addInterceptor(context.getBean(BalancingOkHttpInterceptor.class))
			.callTimeout(Duration.ofSeconds(30))
			.build();
	}

	private static Request chat(byte[] body) {
		return new Request.Builder().url(CHAT).post(RequestBody.create(body, JSON)).build();
	}

	/** Properties of one backend, each with its own key. */
	private static String[] backend(int index, String name, String url, int priority) {
		String prefix = "openai.lb.backends[" + index + "].";
		return new String[] { prefix + "name=" + name, prefix + "url=" + url, prefix + "priority=" + priority,
				prefix + "api-key=" + key(name) };
	}

	/** The secret key of a backend: recognisable, and in no message ever. */
	private static String key(String name) {
		return "k3y-of-" + name + "-5f0c9a1e7b";
	}

	private static void assertNoSecret(Throwable failure) {
		assertThat(trace(failure)).doesNotContain("k3y-of-", "5f0c9a1e7b", CALLER_KEY, CALLER_TOKEN);
	}

	/** Every message of the failure, its causes and suppressed exceptions. */
	private static String trace(Throwable failure) {
		StringWriter trace = new StringWriter();
		failure.printStackTrace(new PrintWriter(trace));
		return trace.toString();
	}

	/** The call ends in an IOException within the bound (and never in an answer). */
	private static IOException failsWithin(Duration bound, okhttp3.Call call) {
		long start = System.nanoTime();
		IOException failure = catchThrowableOfType(IOException.class, () -> {
			try (Response response = call.execute()) {
				throw new AssertionError("expected an IOException, got " + response.code() + " " + response.body().string());
			}
		});
		assertThat(failure).as("the call ends in an IOException").isNotNull();
		assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(bound);
		return failure;
	}

	private static LoggedRequest only(WireMockServer server) {
		assertThat(server.getAllServeEvents()).hasSize(1);
		return server.getAllServeEvents().get(0).getRequest();
	}

	/** JSON of the given size whose exact bytes matter: non-ASCII text, odd spacing, escapes. */
	private static byte[] payload(int size) {
		StringBuilder json = new StringBuilder("{ \"messages\" :[{\"role\":\"user\",  \"content\":\"h\u00e9llo \u2603 \\n\\t ");
		Random random = new Random(size);
		while (json.length() < size - 4) {
			json.append((char) ('a' + random.nextInt(26)));
			if (random.nextInt(40) == 0) {
				json.append(" \u00fc\u20ac ");
			}
		}
		return json.append("\"}]}").toString().getBytes(StandardCharsets.UTF_8);
	}

	private static byte[] idBody(String id) {
		return ("{\"id\":\"" + id + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
			.getBytes(StandardCharsets.UTF_8);
	}

	private static final Pattern ID = Pattern.compile("\"id\":\"([^\"]*)\"");

	/** {@code {"id":"<the id in the request body>"}}. */
	private static byte[] echo(byte[] requestBody) {
		Matcher id = ID.matcher(new String(requestBody, StandardCharsets.UTF_8));
		return ("{\"id\":\"" + (id.find() ? id.group(1) : "none") + "\"}").getBytes(StandardCharsets.UTF_8);
	}

	private static void trickle(OutputStream out, String text, long millis) throws Exception {
		for (byte b : text.getBytes(StandardCharsets.US_ASCII)) {
			out.write(b);
			out.flush();
			Thread.sleep(millis);
		}
	}

	private static byte[] gzip(byte[] bytes) throws IOException {
		ByteArrayOutputStream out = new ByteArrayOutputStream();
		try (GZIPOutputStream zip = new GZIPOutputStream(out)) {
			zip.write(bytes);
		}
		return out.toByteArray();
	}

	/** A JDK HTTP server echoing the id in each request body, whatever its framing. */
	private static final class EchoBackend implements AutoCloseable {

		private final HttpServer server;

		private final ExecutorService threads = Executors.newCachedThreadPool();

		private final AtomicInteger requests = new AtomicInteger();

		EchoBackend() throws IOException {
			this.server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
			this.server.setExecutor(this.threads);
			this.server.createContext("/", (exchange) -> {
				this.requests.incrementAndGet();
				byte[] body = echo(exchange.getRequestBody().readAllBytes());
				exchange.getResponseHeaders().set("Content-Type", "application/json");
				exchange.sendResponseHeaders(200, body.length);
				exchange.getResponseBody().write(body);
				exchange.close();
			});
			this.server.start();
		}

		String url() {
			return "http://127.0.0.1:" + this.server.getAddress().getPort();
		}

		int requests() {
			return this.requests.get();
		}

		@Override
		public void close() {
			this.server.stop(0);
			this.threads.shutdownNow();
		}

	}

}
