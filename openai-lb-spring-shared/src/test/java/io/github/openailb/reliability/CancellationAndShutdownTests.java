package io.github.openailb.reliability;

import io.github.openailb.testsupport.RawBackend;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

import com.github.tomakehurst.wiremock.WireMockServer;
import io.github.openailb.autoconfigure.OpenAiLbAutoConfiguration;
import io.github.openailb.autoconfigure.OpenAiLbClientsAutoConfiguration;
import io.github.openailb.core.Backend;
import io.github.openailb.core.BalancerListener;
import io.github.openailb.core.LoadBalancer;
import io.github.openailb.core.Step;
import io.github.openailb.testsupport.BootLine;
import io.github.openailb.testsupport.LoopbackBackends;
import io.github.openailb.transport.ReactorTransport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import reactor.core.Disposable;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ApplicationContext;
import org.springframework.http.client.ReactorResourceFactory;
import org.springframework.web.reactive.function.client.WebClient;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Issue #9: a reactive caller that goes away cancels the attempt under way without blaming any
 * backend, whether it leaves during an attempt, after a failover or while waiting for a cooling
 * backend; and closing the application context lets in-flight calls finish, also when Boot's
 * shared Reactor Netty resources are disposed first.
 */
class CancellationAndShutdownTests {

	private static final String CHAT = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21";

	@RegisterExtension
	final LoopbackBackends backends = new LoopbackBackends();

	private final List<Step.Ending> endings = new CopyOnWriteArrayList<>();

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(BootLine.WEB_CLIENT))
		.withConfiguration(AutoConfigurations.of(OpenAiLbAutoConfiguration.class, OpenAiLbClientsAutoConfiguration.class))
		.withPropertyValues("openai.lb.response-timeout=20s", "openai.lb.connect-timeout=1s")
		.withBean(BalancerListener.class, () -> new BalancerListener() {
			@Override
			public void requestEnded(int attempts, Step.Ending ending) {
				CancellationAndShutdownTests.this.endings.add(ending);
			}
		});

	@Test
	void cancellingAfterAFailoverClosesTheAttemptAndBlamesOnlyTheFailedBackend() throws Exception {
		WireMockServer a = this.backends.start();
		a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(503)));
		CountDownLatch arrived = new CountDownLatch(1);
		CountDownLatch closedByClient = new CountDownLatch(1);
		try (RawBackend b = new RawBackend((socket) -> {
			arrived.countDown();
			// the client closing its side is the only way out of this read
			while (socket.getInputStream().read() != -1) {
				// discard
			}
			closedByClient.countDown();
		})) {
			this.runner.withPropertyValues(backend(0, "a", a.baseUrl(), 1))
				.withPropertyValues(backend(1, "b", b.url(), 2))
				.run((context) -> {
					Disposable call = client(context).post().uri(CHAT).bodyValue("{}").retrieve().bodyToMono(String.class)
						.subscribe();
					assertThat(arrived.await(10, TimeUnit.SECONDS)).isTrue();
					call.dispose();
					assertThat(closedByClient.await(10, TimeUnit.SECONDS)).as("backend b saw the connection closed").isTrue();
					await().atMost(Duration.ofSeconds(10)).until(() -> this.endings.contains(Step.Ending.CANCELLED));
					LoadBalancer balancer = context.getBean(LoadBalancer.class);
					assertThat(balancer.backend("a").counts().failures()).isEqualTo(1);
					Backend second = balancer.backend("b");
					assertThat(second.counts().failures()).isZero();
					assertThat(second.state()).hasToString("AVAILABLE");
					// the breaker's permission for the cancelled call was handed back
					assertThat(second.breaker().getMetrics().getNumberOfBufferedCalls()).isZero();
				});
		}
	}

	@Test
	void cancellingWhileWaitingForACoolingBackendEndsTheRequestWithoutAnotherAttempt() {
		WireMockServer a = this.backends.start();
		a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(429).withHeader("retry-after-ms", "60000")));
		this.runner.withPropertyValues("openai.lb.max-wait=2m", "openai.lb.max-cool-down=2m")
			.withPropertyValues(backend(0, "a", a.baseUrl(), 1))
			.run((context) -> {
				Disposable call = client(context).post().uri(CHAT).bodyValue("{}").retrieve().bodyToMono(String.class)
					.subscribe();
				// once the engine has the 429 (not merely once a has sent it: a cancel before that
				// would abandon the attempt and the late 429 would count for nothing), the request
				// waits a minute for a, without a thread
				Backend cooling = context.getBean(LoadBalancer.class).backend("a");
				await().atMost(Duration.ofSeconds(10)).until(() -> cooling.counts().throttled() == 1);
				assertThat(this.endings).isEmpty();
				call.dispose();
				assertThat(this.endings).containsExactly(Step.Ending.CANCELLED);
				Backend backend = context.getBean(LoadBalancer.class).backend("a");
				assertThat(backend.counts().failures()).isZero();
				assertThat(backend.counts().throttled()).isEqualTo(1);
			});
	}

	@Test
	void interruptingABlockingCallerCancelsItsAttempt() throws Exception {
		CountDownLatch arrived = new CountDownLatch(1);
		CountDownLatch closedByClient = new CountDownLatch(1);
		try (RawBackend slow = new RawBackend((socket) -> {
			arrived.countDown();
			while (socket.getInputStream().read() != -1) {
				// discard
			}
			closedByClient.countDown();
		})) {
			this.runner.withConfiguration(AutoConfigurations.of(BootLine.REST_CLIENT))
				.withPropertyValues(backend(0, "slow", slow.url(), 1))
				.run((context) -> {
					org.springframework.web.client.RestClient client = context.getBean("openAiLbRestClient",
							org.springframework.web.client.RestClient.class);
					CompletableFuture<Throwable> outcome = new CompletableFuture<>();
					Thread caller = new Thread(() -> {
						try {
							client.post().uri(CHAT).body("{}").retrieve().body(String.class);
							outcome.complete(null);
						}
						catch (Throwable ex) {
							outcome.complete(ex);
						}
					}, "blocking-caller");
					caller.start();
					assertThat(arrived.await(10, TimeUnit.SECONDS)).isTrue();
					caller.interrupt();
					assertThat(outcome.get(10, TimeUnit.SECONDS)).isNotNull();
					assertThat(closedByClient.await(10, TimeUnit.SECONDS)).as("the attempt was cancelled").isTrue();
					assertThat(context.getBean(LoadBalancer.class).backend("slow").counts().failures()).isZero();
				});
		}
	}

	@Test
	void closingTheContextLetsAnInFlightCallFinish() throws Exception {
		closingTheContextLetsAnInFlightCallFinish(this.runner, (context) -> {
			ReactorTransport transport = context.getBean(ReactorTransport.class);
			return transport::isClosed;
		});
	}

	/**
	 * Boot's {@code ReactorResourceFactory} (with WebFlux) disposes Reactor Netty's global event
	 * loops when the context closes, before the transport is closed: the transport's own loops keep
	 * a call under way alive.
	 */
	@Test
	void closingTheContextLetsAnInFlightCallFinishWhenBootsReactorResourcesAreDisposedFirst() throws Exception {
		ApplicationContextRunner withBootsResources = this.runner
			.withConfiguration(AutoConfigurations.of(BootLine.REACTOR_RESOURCES))
			// disposed at once, not after Reactor Netty's quiet period of 2 s
			.withPropertyValues("spring.reactor.netty.shutdown-quiet-period=0s");
		closingTheContextLetsAnInFlightCallFinish(withBootsResources, (context) -> {
			assertThat(context.getBeansOfType(ReactorResourceFactory.class)).hasSize(1);
			ReactorResourceFactory resources = context.getBean(ReactorResourceFactory.class);
			return () -> !resources.isRunning();
		});
	}

	/**
	 * Start closing the context while a call waits for its answer, let the backend answer once
	 * closing has reached the given point, and expect the call to get its answer.
	 */
	private void closingTheContextLetsAnInFlightCallFinish(ApplicationContextRunner runner,
			Function<ApplicationContext, BooleanSupplier> answerWhen) throws Exception {
		CountDownLatch arrived = new CountDownLatch(1);
		CountDownLatch release = new CountDownLatch(1);
		try (RawBackend slow = new RawBackend((socket) -> {
			arrived.countDown();
			try {
				release.await(30, TimeUnit.SECONDS);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
			socket.getOutputStream().write(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n"
					+ "\r\n{\"done\":1}\n").getBytes(StandardCharsets.US_ASCII));
			socket.getOutputStream().flush();
		})) {
			runner.withPropertyValues(backend(0, "slow", slow.url(), 1)).run((context) -> {
				CompletableFuture<String> call = client(context).post()
					.uri(CHAT)
					.bodyValue("{}")
					.retrieve()
					.bodyToMono(String.class)
					.toFuture();
				assertThat(arrived.await(10, TimeUnit.SECONDS)).isTrue();
				ReactorTransport transport = context.getBean(ReactorTransport.class);
				BooleanSupplier answer = answerWhen.apply(context);
				CompletableFuture<Void> closing = CompletableFuture.runAsync(context::close);
				// the backend answers only once shutdown has reached that point
				await().atMost(Duration.ofSeconds(20)).until(() -> answer.getAsBoolean() || closing.isDone());
				release.countDown();
				assertThat(call.get(20, TimeUnit.SECONDS)).isEqualTo("{\"done\":1}\n");
				closing.get(40, TimeUnit.SECONDS);
				assertThat(transport.isClosed()).isTrue();
			});
		}
	}

	private static WebClient client(ApplicationContext context) {
		return context.getBean("openAiLbWebClient", WebClient.class);
	}

	private static String[] backend(int index, String name, String url, int priority) {
		String prefix = "openai.lb.backends[" + index + "].";
		return new String[] { prefix + "name=" + name, prefix + "url=" + url, prefix + "priority=" + priority };
	}

}
