package io.github.openailb.transport;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DefaultDataBufferFactory;
import org.springframework.http.HttpCookie;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatus;
import org.springframework.mock.http.client.reactive.MockClientHttpResponse;
import org.springframework.util.MultiValueMap;
import org.springframework.web.reactive.function.client.WebClient;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * The capture of a balanced request keeps what Spring's own client requests let callers
 * observe: headers and cookies as WebClient writes them, {@code beforeCommit} actions run once
 * and in order, read-only headers once committed, and a body held up to the limit.
 */
class CapturedRequestTests {

	private static final URI URL = URI.create(BalancingClientHttpConnector.BASE_URL + "/x");

	@Test
	void webClientWritesItsHeadersCookiesAttributesAndBodyIntoTheCapture() {
		AtomicReference<CapturedRequest> written = new AtomicReference<>();
		WebClient client = WebClient.builder().clientConnector((method, uri, callback) -> {
			CapturedRequest request = new CapturedRequest(method, uri, 1024);
			written.set(request);
			return callback.apply(request).then(Mono.fromSupplier(() -> new MockClientHttpResponse(HttpStatus.OK)));
		}).build();
		client.post()
			.uri(URL)
			.header("x-one", "1")
			.cookie("session", "abc")
			.attribute("kept", "yes")
			.bodyValue("{\"a\":1}")
			.retrieve()
			.toBodilessEntity()
			.block();
		CapturedRequest request = written.get();
		assertThat(request.getHeaders().getFirst("x-one")).isEqualTo("1");
		assertThat(request.getHeaders().get(HttpHeaders.COOKIE)).containsExactly("session=abc");
		assertThat(request.getHeaders().getContentLength()).isEqualTo(7);
		assertThat(request.getAttributes()).containsEntry("kept", "yes");
		assertThat(new String(request.body(), StandardCharsets.UTF_8)).isEqualTo("{\"a\":1}");
	}

	@Test
	void aBodyThatIsOneWholeArrayIsTakenAsItIs() {
		byte[] bytes = "{}".getBytes(StandardCharsets.UTF_8);
		CapturedRequest request = new CapturedRequest(HttpMethod.POST, URL, 1024);
		request.writeWith(Mono.just(DefaultDataBufferFactory.sharedInstance.wrap(bytes))).block();
		assertThat(request.body()).isSameAs(bytes);
	}

	@Test
	void aBodyInSeveralBuffersIsJoined() {
		CapturedRequest request = new CapturedRequest(HttpMethod.POST, URL, 1024);
		request.writeWith(Flux.just(buffer("ab"), buffer("cd"), buffer("e"))).block();
		assertThat(new String(request.body(), StandardCharsets.UTF_8)).isEqualTo("abcde");
	}

	@Test
	void aBodyAboveTheLimitFailsAndStopsItsSource() {
		AtomicBoolean cancelled = new AtomicBoolean();
		CapturedRequest request = new CapturedRequest(HttpMethod.POST, URL, 4);
		Flux<DataBuffer> body = Flux.just(buffer("abc"), buffer("de"), buffer("f"))
			.doOnCancel(() -> cancelled.set(true));
		assertThatExceptionOfType(RuntimeException.class).isThrownBy(() -> request.writeWith(body).block())
			.havingCause()
			.isInstanceOf(RequestTooLargeException.class);
		assertThat(cancelled).isTrue();
		assertThat(request.body()).isEmpty();
	}

	@Test
	void beforeCommitActionsRunOnceInOrderWhileTheHeadersCanStillChange() {
		CapturedRequest request = new CapturedRequest(HttpMethod.POST, URL, 1024);
		List<String> ran = new ArrayList<>();
		request.beforeCommit(() -> Mono.fromRunnable(() -> {
			ran.add("first");
			request.getHeaders().add("x-order", "1");
		}));
		request.beforeCommit(() -> Mono.fromRunnable(() -> {
			ran.add("second");
			request.getHeaders().add("x-order", "2");
		}));
		Mono<Void> write = request.writeWith(Mono.just(buffer("{}")));
		assertThat(request.isCommitted()).isTrue();
		write.block();
		assertThat(request.setComplete().block()).isNull();
		assertThat(ran).containsExactly("first", "second");
		assertThat(request.getHeaders().get("x-order")).containsExactly("1", "2");
		assertThatExceptionOfType(UnsupportedOperationException.class)
			.isThrownBy(() -> request.getHeaders().add("x-late", "1"));
		assertThatExceptionOfType(UnsupportedOperationException.class)
			.isThrownBy(() -> request.getCookies().add("late", new HttpCookie("late", "1")));
	}

	@Test
	void onlyTheFirstWriteCounts() {
		CapturedRequest request = new CapturedRequest(HttpMethod.POST, URL, 1024);
		assertThat(request.isCommitted()).isFalse();
		request.writeWith(Mono.just(buffer("first"))).block();
		request.writeWith(Mono.just(buffer("second"))).block();
		assertThat(new String(request.body(), StandardCharsets.UTF_8)).isEqualTo("first");
	}

	@Test
	void cookiesAddedToTheMapAskedForBeforeAnyExistBecomeCookieHeaders() {
		CapturedRequest request = new CapturedRequest(HttpMethod.GET, URL, 1024);
		MultiValueMap<String, HttpCookie> cookies = request.getCookies();
		assertThat(cookies).isEmpty();
		cookies.add("a", new HttpCookie("a", "1"));
		cookies.addIfAbsent("a", new HttpCookie("a", "other"));
		cookies.add("b", new HttpCookie("b", "2"));
		assertThat(request.getCookies()).containsOnlyKeys("a", "b");
		request.setComplete().block();
		assertThat(request.body()).isEmpty();
		assertThat(request.getHeaders().get(HttpHeaders.COOKIE)).containsExactly("a=1", "b=2");
	}

	private static DataBuffer buffer(String text) {
		return DefaultDataBufferFactory.sharedInstance.wrap(text.getBytes(StandardCharsets.UTF_8));
	}

}
