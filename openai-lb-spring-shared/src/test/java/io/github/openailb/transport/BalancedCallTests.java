package io.github.openailb.transport;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

import io.github.openailb.auth.ApiKeyCredentials;
import io.github.openailb.core.Backend;
import io.github.openailb.core.BalancerConfig;
import io.github.openailb.core.BalancerListener;
import io.github.openailb.core.LoadBalancer;
import io.github.openailb.core.Outcome;
import io.github.openailb.core.Step;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.reactivestreams.Publisher;
import org.reactivestreams.Subscription;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;
import reactor.test.publisher.TestPublisher;
import reactor.test.util.RaceTestUtils;

import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.core.io.buffer.NettyDataBuffer;
import org.springframework.core.io.buffer.NettyDataBufferFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.client.reactive.ClientHttpConnector;
import org.springframework.http.client.reactive.ClientHttpRequest;
import org.springframework.http.client.reactive.ClientHttpResponse;
import org.springframework.mock.http.client.reactive.MockClientHttpRequest;
import org.springframework.mock.http.client.reactive.MockClientHttpResponse;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The attempt loop of {@link BalancedCall} over a transport whose answers and body chunks the
 * test emits one by one, to steer the orders HTTP cannot: a body that ends before the caller
 * reads it, a cancel while the first byte is awaited, a first byte after the attempt's time.
 * Every chunk is a reference-counted buffer that must be released by the end of each test.
 */
class BalancedCallTests {

	private static final NettyDataBufferFactory BUFFERS = new NettyDataBufferFactory(UnpooledByteBufAllocator.DEFAULT);

	private static final Duration TIMEOUT = Duration.ofSeconds(10);

	private static final String HOOK = BalancedCallTests.class.getName();

	private final List<NettyDataBuffer> chunks = new CopyOnWriteArrayList<>();

	private final List<String> attempts = new CopyOnWriteArrayList<>();

	private final List<Step.Ending> endings = new CopyOnWriteArrayList<>();

	private final ScriptedTransport transport = new ScriptedTransport();

	private LoadBalancer balancer;

	@AfterEach
	void everyChunkIsReleased() {
		for (NettyDataBuffer chunk : this.chunks) {
			assertThat(chunk.getNativeBuffer().refCnt()).as("references to chunk %s", chunk).isZero();
		}
	}

	@Test
	void bodyThatEndsBeforeTheCallerReadsItEndsAfterTheFirstChunk() {
		TestPublisher<DataBuffer> body = TestPublisher.create();
		this.transport.answer("a", answer(200, body));
		AtomicReference<ClientHttpResponse> answered = call(connector());
		assertThat(answered).as("no answer before the first byte").hasNullValue();
		body.next(chunk("one"));
		body.complete();
		ClientHttpResponse response = answered.get();
		assertThat(response.getStatusCode().value()).isEqualTo(200);
		StepVerifier.create(response.getBody(), 0)
			.thenRequest(1)
			.assertNext((chunk) -> assertThat(text(chunk)).isEqualTo("one"))
			.expectComplete()
			.verify(TIMEOUT);
		assertThat(this.attempts).containsExactly("a SUCCESS");
		assertThat(failedCalls("a")).isZero();
	}

	@Test
	void bodyThatBreaksBeforeTheCallerReadsItBreaksAfterTheFirstChunkAndBlamesTheBackend() {
		TestPublisher<DataBuffer> body = TestPublisher.create();
		this.transport.answer("a", answer(200, body));
		AtomicReference<ClientHttpResponse> answered = call(connector());
		body.next(chunk("one"));
		body.error(new IOException("connection reset"));
		StepVerifier.create(answered.get().getBody(), 0)
			.thenRequest(1)
			.assertNext((chunk) -> assertThat(text(chunk)).isEqualTo("one"))
			.expectErrorMessage("connection reset")
			.verify(TIMEOUT);
		assertThat(this.attempts).containsExactly("a SUCCESS");
		assertThat(this.balancer.backend("a").breaker().getMetrics().getNumberOfSuccessfulCalls()).isOne();
		assertThat(failedCalls("a")).as("the broken stream").isOne();
	}

	@Test
	void emptySuccessIsAnAnswerWithAnEmptyBody() {
		TestPublisher<DataBuffer> body = TestPublisher.create();
		this.transport.answer("a", answer(200, body));
		AtomicReference<ClientHttpResponse> answered = call(connector());
		assertThat(answered).hasNullValue();
		body.complete();
		assertThat(answered.get().getStatusCode().value()).isEqualTo(200);
		StepVerifier.create(answered.get().getBody(), 0).thenRequest(1).expectComplete().verify(TIMEOUT);
		assertThat(this.attempts).containsExactly("a SUCCESS");
		assertThat(this.endings).containsExactly(Step.Ending.ANSWERED);
		assertThat(failedCalls("a")).isZero();
	}

	@Test
	void secondSubscriptionToTheBodyIsEmptyAndLeavesTheBackendsBodyAlone() {
		TestPublisher<DataBuffer> body = TestPublisher.create();
		this.transport.answer("a", answer(200, body));
		AtomicReference<ClientHttpResponse> answered = call(connector());
		body.next(chunk("one"));
		Flux<DataBuffer> content = answered.get().getBody();
		StepVerifier.create(content)
			.assertNext((chunk) -> assertThat(text(chunk)).isEqualTo("one"))
			// while the first reader still reads
			.then(() -> StepVerifier.create(content).expectComplete().verify(TIMEOUT))
			.then(() -> body.next(chunk("two")))
			.assertNext((chunk) -> assertThat(text(chunk)).isEqualTo("two"))
			.then(body::complete)
			.expectComplete()
			.verify(TIMEOUT);
		// and after it read all, as WebClient does to release a body
		StepVerifier.create(content).expectComplete().verify(TIMEOUT);
		assertThat(body.subscribeCount()).isOne();
		body.assertNotCancelled();
		assertThat(failedCalls("a")).isZero();
	}

	@Test
	void backendsBodyIsReadOnlyAsFastAsTheCallerAsks() {
		TestPublisher<DataBuffer> body = TestPublisher.create();
		List<Long> requested = new CopyOnWriteArrayList<>();
		this.transport.answer("a", answer(200, body.flux().doOnRequest(requested::add)));
		AtomicReference<ClientHttpResponse> answered = call(connector());
		body.next(chunk("one"));
		assertThat(requested).as("the first byte only").containsExactly(1L);
		StepVerifier.create(answered.get().getBody(), 0)
			.thenRequest(1)
			.assertNext((chunk) -> assertThat(text(chunk)).isEqualTo("one"))
			.then(() -> assertThat(requested).as("the held chunk met that demand").containsExactly(1L))
			.thenRequest(2)
			.then(() -> assertThat(requested).containsExactly(1L, 2L))
			.then(() -> body.next(chunk("two"), chunk("three")))
			.assertNext((chunk) -> assertThat(text(chunk)).isEqualTo("two"))
			.assertNext((chunk) -> assertThat(text(chunk)).isEqualTo("three"))
			.then(body::complete)
			.expectComplete()
			.verify(TIMEOUT);
		assertThat(requested).containsExactly(1L, 2L);
	}

	@Test
	void cancellingTheBodyBeforeReadingReleasesTheHeldChunkAndCancelsTheBackendsBody() {
		TestPublisher<DataBuffer> body = TestPublisher.create();
		this.transport.answer("a", answer(200, body));
		AtomicReference<ClientHttpResponse> answered = call(connector());
		body.next(chunk("one"));
		StepVerifier.create(answered.get().getBody(), 0).thenCancel().verify(TIMEOUT);
		body.assertCancelled();
		// the caller's choice, not the backend's fault
		assertThat(failedCalls("a")).isZero();
	}

	@Test
	void chunkInFlightWhenTheCallerCancelsIsReleased() {
		TestPublisher<DataBuffer> body = TestPublisher.createNoncompliant(TestPublisher.Violation.DEFER_CANCELLATION);
		this.transport.answer("a", answer(200, body));
		AtomicReference<ClientHttpResponse> answered = call(connector());
		body.next(chunk("one"));
		StepVerifier.create(answered.get().getBody(), 0)
			.thenRequest(2)
			.assertNext((chunk) -> assertThat(text(chunk)).isEqualTo("one"))
			.thenCancel()
			.verify(TIMEOUT);
		body.assertCancelled();
		// it was asked for before the cancel
		body.next(chunk("two"));
	}

	@Test
	void bodyThatBreaksBeforeItsFirstByteFailsOver() {
		TestPublisher<DataBuffer> broken = TestPublisher.create();
		this.transport.answer("a", answer(200, broken));
		this.transport.answer("b", answer(200, Flux.just(chunk("from b"))));
		AtomicReference<ClientHttpResponse> answered = new AtomicReference<>();
		StepVerifier.create(exchange(connector()))
			.then(() -> broken.error(new IOException("connection reset")))
			.consumeNextWith(answered::set)
			.expectComplete()
			.verify(TIMEOUT);
		StepVerifier.create(answered.get().getBody())
			.assertNext((chunk) -> assertThat(text(chunk)).isEqualTo("from b"))
			.expectComplete()
			.verify(TIMEOUT);
		assertThat(this.attempts).containsExactly("a FAILURE", "b SUCCESS");
	}

	@Test
	void cancellingWhileTheAnswerIsAwaitedCancelsTheAttempt() {
		Sinks.One<ClientHttpResponse> pending = Sinks.one();
		this.transport.answer("a", pending.asMono());
		StepVerifier.create(exchange(connector()))
			.expectSubscription()
			.then(() -> assertThat(pending.currentSubscriberCount()).isOne())
			.thenCancel()
			.verify(TIMEOUT);
		assertThat(pending.currentSubscriberCount()).isZero();
		assertThat(this.endings).containsExactly(Step.Ending.CANCELLED);
		assertThat(this.attempts).isEmpty();
	}

	@Test
	void cancellingWhileTheFirstByteIsAwaitedCancelsTheBodyAndGivesTheAttemptBack() {
		TestPublisher<DataBuffer> body = TestPublisher.createNoncompliant(TestPublisher.Violation.DEFER_CANCELLATION);
		this.transport.answer("a", answer(200, body));
		BalancingClientHttpConnector connector = connector();
		CircuitBreaker breaker = this.balancer.backend("a").breaker();
		// a probing breaker lets one call through: the attempt holds it until it is given back
		breaker.transitionToOpenState();
		breaker.transitionToHalfOpenState();
		StepVerifier.create(exchange(connector))
			.expectSubscription()
			.then(() -> assertThat(body.wasSubscribed()).isTrue())
			.then(() -> assertThat(breaker.tryAcquirePermission()).as("the attempt holds the probe").isFalse())
			.thenCancel()
			.verify(TIMEOUT);
		body.assertCancelled();
		assertThat(this.endings).containsExactly(Step.Ending.CANCELLED);
		assertThat(this.attempts).as("no outcome for an abandoned attempt").isEmpty();
		assertThat(breaker.tryAcquirePermission()).as("the probe was given back").isTrue();
		// a first byte already on its way is nobody's
		body.next(chunk("late"));
		assertThat(this.transport.sentTo).containsExactly("a");
	}

	@Test
	void firstByteAfterTheResponseTimeoutFailsOverAndIsReleased() {
		TestPublisher<DataBuffer> slow = TestPublisher.createNoncompliant(TestPublisher.Violation.DEFER_CANCELLATION);
		this.transport.answer("a", answer(200, slow));
		this.transport.answer("b", answer(200, Flux.just(chunk("from b"))));
		BalancingClientHttpConnector connector = connector(
				TransportConfig.builder().responseTimeout(Duration.ofMillis(100)).build());
		AtomicReference<ClientHttpResponse> answered = new AtomicReference<>();
		StepVerifier.create(exchange(connector)).consumeNextWith(answered::set).expectComplete().verify(TIMEOUT);
		StepVerifier.create(answered.get().getBody())
			.assertNext((chunk) -> assertThat(text(chunk)).isEqualTo("from b"))
			.expectComplete()
			.verify(TIMEOUT);
		slow.assertCancelled();
		slow.next(chunk("late from a"));
		assertThat(this.transport.sentTo).containsExactly("a", "b");
		assertThat(this.attempts).containsExactly("a FAILURE", "b SUCCESS");
	}

	/**
	 * The attempt's timer firing as the first byte arrives: its end waits on a parallel worker
	 * (held here by a schedule hook) while the first byte wins. The answer is handed on, and its
	 * body is still bounded by max-duration.
	 */
	@Test
	void firstByteAsTheAttemptsTimerFiresLeavesTheBodyBoundedByMaxDuration() throws InterruptedException {
		CountDownLatch fired = new CountDownLatch(1);
		CountDownLatch go = new CountDownLatch(1);
		Schedulers.onScheduleHook(HOOK, (task) -> {
			if (!(task instanceof BalancedCall.Try)) {
				return task;
			}
			fired.countDown();
			return () -> {
				awaitUninterruptibly(go);
				task.run();
			};
		});
		TestPublisher<DataBuffer> body = TestPublisher.create();
		try {
			this.transport.answer("a", answer(200, body));
			AtomicReference<ClientHttpResponse> answered = call(connector(TransportConfig.builder()
				.responseTimeout(Duration.ofMillis(50))
				.maxDuration(Duration.ofMillis(500))
				.build()));
			assertThat(fired.await(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
			body.next(chunk("one"));
			go.countDown();
			assertThat(answered.get()).as("the first byte won").isNotNull();
			StepVerifier.create(answered.get().getBody())
				.assertNext((chunk) -> assertThat(text(chunk)).isEqualTo("one"))
				.expectError(TimeoutException.class)
				.verify(TIMEOUT);
		}
		finally {
			go.countDown();
			Schedulers.resetOnScheduleHook(HOOK);
		}
		body.assertCancelled();
		assertThat(this.attempts).containsExactly("a SUCCESS");
	}

	@Test
	void chunkInFlightWhenTheRequestsTimeIsUpIsReleased() {
		TestPublisher<DataBuffer> body = TestPublisher.createNoncompliant(TestPublisher.Violation.DEFER_CANCELLATION);
		this.transport.answer("a", answer(200, body));
		AtomicReference<ClientHttpResponse> answered = call(
				connector(TransportConfig.builder().maxDuration(Duration.ofMillis(200)).build()));
		body.next(chunk("one"));
		StepVerifier.create(answered.get().getBody(), 0)
			.thenRequest(2)
			.assertNext((chunk) -> assertThat(text(chunk)).isEqualTo("one"))
			.expectError(TimeoutException.class)
			.verify(TIMEOUT);
		body.assertCancelled();
		// it was asked for before the deadline
		body.next(chunk("two"));
		assertThat(failedCalls("a")).as("the stream cut short").isOne();
	}

	@Test
	void serviceUnavailableFailsOverToTheNextBackend() {
		this.transport.answer("a", answer(503, Flux.just(chunk("{\"error\":\"a is busy\"}"))));
		this.transport.answer("b", answer(200, Flux.just(chunk("from b"))));
		AtomicReference<ClientHttpResponse> answered = new AtomicReference<>();
		StepVerifier.create(exchange(connector())).consumeNextWith(answered::set).expectComplete().verify(TIMEOUT);
		assertThat(answered.get().getStatusCode().value()).isEqualTo(200);
		StepVerifier.create(answered.get().getBody())
			.assertNext((chunk) -> assertThat(text(chunk)).isEqualTo("from b"))
			.expectComplete()
			.verify(TIMEOUT);
		assertThat(this.transport.sentTo).containsExactly("a", "b");
		assertThat(this.attempts).containsExactly("a FAILURE", "b SUCCESS");
	}

	@Test
	void lastAnswerIsReturnedWhenEveryBackendAnsweredAServerError() {
		this.transport.answer("a", answer(503, Flux.just(chunk("{\"error\":\"a is busy\"}"))));
		this.transport.answer("b", answer(500, Flux.just(chunk("{\"error\":"), chunk("\"b broke\"}"))));
		AtomicReference<ClientHttpResponse> answered = new AtomicReference<>();
		StepVerifier.create(exchange(connector())).consumeNextWith(answered::set).expectComplete().verify(TIMEOUT);
		assertThat(answered.get().getStatusCode().value()).isEqualTo(500);
		assertThat(DataBufferUtils.join(answered.get().getBody()).map(BalancedCallTests::text).block(TIMEOUT))
			.isEqualTo("{\"error\":\"b broke\"}");
		assertThat(this.transport.sentTo).containsExactly("a", "b");
		assertThat(this.attempts).containsExactly("a FAILURE", "b FAILURE");
		assertThat(this.endings).containsExactly(Step.Ending.LAST_ANSWER);
	}

	/**
	 * The caller taking the held chunk on its thread while the body ends on the transport's: the
	 * chunk comes first, whichever thread wins. A race, so repeated: the end overtook the chunk
	 * about once in 1,200 rounds when it did not wait for the chunk to be handed on.
	 */
	@Test
	void bodyEndingWhileTheCallerTakesTheHeldChunkEndsAfterIt() {
		BalancingClientHttpConnector connector = connector();
		for (int i = 0; i < 10000; i++) {
			TestPublisher<DataBuffer> body = TestPublisher.create();
			this.transport.answer("a", answer(200, body));
			AtomicReference<ClientHttpResponse> answered = call(connector);
			body.next(chunk("one"));
			Reading reading = new Reading();
			answered.get().getBody().subscribe(reading);
			RaceTestUtils.race(() -> reading.request(1), body::complete);
			assertThat(reading.events).as("round %d", i).containsExactly("one", "complete");
		}
	}

	private BalancingClientHttpConnector connector() {
		return connector(TransportConfig.builder().build());
	}

	/** Backends a then b, in two tiers so that a is always tried first. */
	private BalancingClientHttpConnector connector(TransportConfig limits) {
		BalancerConfig config = BalancerConfig.builder()
			.backend(new BalancerConfig.BackendBuilder().name("a").url("https://a.example.com").priority(1).apiKey("ka"))
			.backend(new BalancerConfig.BackendBuilder().name("b").url("https://b.example.com").priority(2).apiKey("kb"))
			.build();
		CircuitBreakerConfig breakers = CircuitBreakerConfig.from(LoadBalancer.defaultBreakerConfig(Clock.systemUTC()))
			.permittedNumberOfCallsInHalfOpenState(1)
			.build();
		this.balancer = LoadBalancer.builder(config)
			.circuitBreakers((name) -> CircuitBreaker.of(name, breakers))
			.listener(new Recorder())
			.build();
		return new BalancingClientHttpConnector(this.balancer, this.transport, new ApiKeyCredentials(config.backends()),
				limits, this.transport);
	}

	private static Mono<ClientHttpResponse> exchange(BalancingClientHttpConnector connector) {
		HttpHeaders headers = new HttpHeaders();
		headers.set("api-key", "caller");
		return connector.exchange(HttpMethod.POST, "/chat", headers, "{}".getBytes(StandardCharsets.UTF_8));
	}

	/** Start a call; its answer shows up once the loop hands it on. */
	private static AtomicReference<ClientHttpResponse> call(BalancingClientHttpConnector connector) {
		AtomicReference<ClientHttpResponse> answered = new AtomicReference<>();
		exchange(connector).subscribe(answered::set);
		return answered;
	}

	private long failedCalls(String backend) {
		return this.balancer.backend(backend).breaker().getMetrics().getNumberOfFailedCalls();
	}

	private DataBuffer chunk(String text) {
		NettyDataBuffer chunk = BUFFERS.allocateBuffer(text.length());
		chunk.write(text, StandardCharsets.UTF_8);
		this.chunks.add(chunk);
		return chunk;
	}

	/** The chunk's text; the chunk is released. */
	private static String text(DataBuffer chunk) {
		String text = chunk.toString(StandardCharsets.UTF_8);
		DataBufferUtils.release(chunk);
		return text;
	}

	private static void awaitUninterruptibly(CountDownLatch latch) {
		try {
			latch.await();
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	private static ClientHttpResponse answer(int status, Publisher<DataBuffer> body) {
		MockClientHttpResponse response = new MockClientHttpResponse(status);
		response.setBody(body);
		return response;
	}

	/** A body reader that asks for nothing until told to, and notes what it got. */
	private static final class Reading extends BaseSubscriber<DataBuffer> {

		final List<String> events = new CopyOnWriteArrayList<>();

		@Override
		protected void hookOnSubscribe(Subscription subscription) {
		}

		@Override
		protected void hookOnNext(DataBuffer chunk) {
			this.events.add(text(chunk));
		}

		@Override
		protected void hookOnComplete() {
			this.events.add("complete");
		}

		@Override
		protected void hookOnError(Throwable error) {
			this.events.add("error: " + error);
		}

	}

	private final class Recorder implements BalancerListener {

		@Override
		public void attemptEnded(Backend backend, Outcome outcome, long nanos) {
			BalancedCallTests.this.attempts.add(backend.name() + " " + outcome);
		}

		@Override
		public void requestEnded(int attempts, Step.Ending ending) {
			BalancedCallTests.this.endings.add(ending);
		}

	}

	/** Answers each backend (named by its host's first label) with the answers scripted for it, in turn. */
	private static final class ScriptedTransport implements ClientHttpConnector {

		private final Map<String, Queue<Mono<ClientHttpResponse>>> answers = new ConcurrentHashMap<>();

		final List<String> sentTo = new CopyOnWriteArrayList<>();

		void answer(String backend, ClientHttpResponse response) {
			answer(backend, Mono.just(response));
		}

		void answer(String backend, Mono<ClientHttpResponse> response) {
			this.answers.computeIfAbsent(backend, (name) -> new ConcurrentLinkedQueue<>()).add(response);
		}

		@Override
		public Mono<ClientHttpResponse> connect(HttpMethod method, URI uri,
				Function<? super ClientHttpRequest, Mono<Void>> requestCallback) {
			String backend = uri.getHost().substring(0, uri.getHost().indexOf('.'));
			this.sentTo.add(backend);
			Queue<Mono<ClientHttpResponse>> scripted = this.answers.get(backend);
			Mono<ClientHttpResponse> response = (scripted != null) ? scripted.poll() : null;
			if (response == null) {
				return Mono.error(new IllegalStateException("no answer scripted for " + backend));
			}
			return requestCallback.apply(new MockClientHttpRequest(method, uri)).then(response);
		}

	}

}
