package io.github.openailb.reliability;

import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import com.azure.core.http.HttpRequest;
import com.azure.core.util.BinaryData;
import io.github.openailb.azure.BalancingAzureHttpClient;
import io.github.openailb.core.LoadBalancer;
import io.github.openailb.testsupport.PersistentBackend;
import io.github.openailb.transport.BalancingClientHttpConnector;
import io.github.openailb.transport.ReactorTransport;
import io.github.openailb.transport.RequestTooLargeException;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DefaultDataBufferFactory;
import org.springframework.web.client.ResourceAccessException;
import org.springframework.web.client.RestClient;
import org.springframework.web.reactive.function.client.WebClient;

import static io.github.openailb.reliability.BalancedApp.CHAT;
import static io.github.openailb.reliability.BalancedApp.restClient;
import static io.github.openailb.reliability.BalancedApp.webClient;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatException;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * Issue #16: what the balancer holds is bounded. A request body above
 * {@code openai.lb.max-request-body} fails at once with an error naming the property, on every
 * path; a backend's pool is {@code openai.lb.pool.max-connections} connections with at most
 * {@code max-pending-acquires} requests waiting; and the blocking client refuses to wait on a
 * non-blocking thread, as Reactor's {@code block()} does.
 */
class ResourceBoundsTests {

	private static final int LIMIT = 64 * 1024;

	private final ApplicationContextRunner runner = BalancedApp.runner()
		.withPropertyValues("openai.lb.max-request-body=64KB");

	@Test
	void aRequestBodyAboveTheLimitFailsAtOnceOnEveryPathNamingTheProperty() throws Exception {
		try (PersistentBackend a = new PersistentBackend((request, out) -> PersistentBackend.answer(out, 200,
				"text/plain", Integer.toString(request.body().length).getBytes(StandardCharsets.US_ASCII)))) {
			this.runner.withPropertyValues("openai.lb.backends[0].name=a", "openai.lb.backends[0].url=" + a.url())
				.run((context) -> {
					RestClient rest = restClient(context);
					WebClient web = webClient(context);
					// up to the limit, byte for byte
					assertThat(rest.post().uri(CHAT).body(new byte[LIMIT]).retrieve().body(String.class))
						.isEqualTo(Integer.toString(LIMIT));
					assertThat(web.post().uri(CHAT).body(chunks(LIMIT), DataBuffer.class).retrieve()
						.bodyToMono(String.class).block(Duration.ofSeconds(10))).isEqualTo(Integer.toString(LIMIT));
					// one byte more: refused before any backend is tried
					assertThatExceptionOfType(ResourceAccessException.class)
						.isThrownBy(() -> rest.post().uri(CHAT).body(new byte[LIMIT + 1]).retrieve().body(String.class))
						.havingRootCause()
						.isInstanceOf(RequestTooLargeException.class)
						.withMessageContaining("request body of " + (LIMIT + 1) + " bytes")
						.withMessageContaining("openai.lb.max-request-body (" + LIMIT + " bytes)");
					assertThatException().isThrownBy(() -> web.post().uri(CHAT).body(chunks(LIMIT + 1), DataBuffer.class)
						.retrieve().bodyToMono(String.class).block(Duration.ofSeconds(10)))
						.havingRootCause()
						.isInstanceOf(RequestTooLargeException.class)
						.withMessageContaining("openai.lb.max-request-body (" + LIMIT + " bytes)");
					BalancingAzureHttpClient azure = new BalancingAzureHttpClient(
							context.getBean("openAiLbConnector", BalancingClientHttpConnector.class));
					HttpRequest request = new HttpRequest(com.azure.core.http.HttpMethod.POST,
							new URL("https://openai-lb" + CHAT)).setBody(BinaryData.fromBytes(new byte[LIMIT + 1]));
					assertThatException().isThrownBy(() -> azure.send(request).block(Duration.ofSeconds(10)))
						.havingRootCause()
						.isInstanceOf(RequestTooLargeException.class);
					assertThat(a.requests()).isEqualTo(2);
				});
		}
	}

	@Test
	void aFullPoolFailsTheAttemptOverAtOnceInsteadOfQueueingWithoutBound() throws Exception {
		CountDownLatch release = new CountDownLatch(1);
		try (PersistentBackend busy = new PersistentBackend((request, out) -> {
			release.await(10, TimeUnit.SECONDS);
			PersistentBackend.answer(out, 200, "text/plain", "busy".getBytes(StandardCharsets.US_ASCII));
		}); PersistentBackend spare = new PersistentBackend((request, out) -> PersistentBackend.answer(out, 200,
				"text/plain", "spare".getBytes(StandardCharsets.US_ASCII)))) {
			this.runner
				.withPropertyValues("openai.lb.backends[0].name=busy", "openai.lb.backends[0].url=" + busy.url(),
						"openai.lb.backends[1].name=spare", "openai.lb.backends[1].url=" + spare.url(),
						"openai.lb.backends[1].priority=2")
				.withPropertyValues("openai.lb.pool.max-connections=1", "openai.lb.pool.max-pending-acquires=1")
				.run((context) -> {
					WebClient web = webClient(context);
					Mono<String> first = call(web).cache();
					first.subscribe();
					org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> busy.requests() == 1);
					// busy's only connection is taken and one request may wait for it: the other goes on to spare
					Mono<String> second = call(web).cache();
					Mono<String> third = call(web).cache();
					second.subscribe();
					third.subscribe();
					org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> spare.requests() == 1);
					release.countDown();
					assertThat(List.of(second.block(Duration.ofSeconds(10)), third.block(Duration.ofSeconds(10))))
						.containsExactlyInAnyOrder("busy", "spare");
					assertThat(first.block(Duration.ofSeconds(10))).isEqualTo("busy");
					assertThat(busy.connections()).isOne();
					assertThat(busy.requests()).isEqualTo(2);
					assertThat(context.getBean(LoadBalancer.class).backend("busy").counts().failures()).isOne();
				});
		}
	}

	private static Mono<String> call(WebClient web) {
		return web.post().uri(CHAT).bodyValue("{}").retrieve().bodyToMono(String.class);
	}

	@Test
	void theBlockingClientRefusesToWaitOnANonBlockingThread() throws Exception {
		try (PersistentBackend a = new PersistentBackend((request, out) -> PersistentBackend.answer(out, 200,
				"text/plain", "ok".getBytes(StandardCharsets.US_ASCII)))) {
			this.runner.withPropertyValues("openai.lb.backends[0].name=a", "openai.lb.backends[0].url=" + a.url())
				.run((context) -> {
					RestClient rest = restClient(context);
					WebClient web = webClient(context);
					Mono<String> blockingCall = Mono.fromCallable(() -> rest.post().uri(CHAT).body("{}").retrieve().body(String.class));
					// on a parallel scheduler thread, and on the event loop that delivered an answer
					assertThatExceptionOfType(IllegalStateException.class)
						.isThrownBy(() -> blockingCall.subscribeOn(Schedulers.parallel()).block(Duration.ofSeconds(10)))
						.withMessageContaining("not supported on the non-blocking thread parallel-");
					assertThatExceptionOfType(IllegalStateException.class)
						.isThrownBy(() -> web.post().uri(CHAT).bodyValue("{}").retrieve().bodyToMono(String.class)
							.flatMap((answer) -> blockingCall)
							.block(Duration.ofSeconds(10)))
						.withMessageContaining("not supported on the non-blocking thread " + ReactorTransport.THREAD_PREFIX);
					// the same call on a thread that may block is fine
					assertThat(blockingCall.subscribeOn(Schedulers.boundedElastic()).block(Duration.ofSeconds(10)))
						.isEqualTo("ok");
					assertThat(a.requests()).isEqualTo(2);
				});
		}
	}

	/** A streamed body of the given size, in chunks of 8 KiB. */
	private static Flux<DataBuffer> chunks(int size) {
		return Flux.range(0, (size + 8191) / 8192).map((i) -> {
			byte[] chunk = new byte[Math.min(8192, size - i * 8192)];
			Arrays.fill(chunk, (byte) 'x');
			return DefaultDataBufferFactory.sharedInstance.wrap(chunk);
		});
	}
}
