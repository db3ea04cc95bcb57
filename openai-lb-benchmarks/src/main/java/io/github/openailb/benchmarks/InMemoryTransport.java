package io.github.openailb.benchmarks;

import java.net.URI;
import java.util.function.Function;

import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferFactory;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.core.io.buffer.DefaultDataBufferFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.ResponseCookie;
import org.springframework.http.client.reactive.AbstractClientHttpRequest;
import org.springframework.http.client.reactive.ClientHttpConnector;
import org.springframework.http.client.reactive.ClientHttpRequest;
import org.springframework.http.client.reactive.ClientHttpResponse;
import org.springframework.util.LinkedMultiValueMap;
import org.springframework.util.MultiValueMap;

/**
 * A transport that answers every request at once from memory with {@link Stub#COMPLETION}, so
 * that a benchmark sees only the CPU the balanced connector itself spends per request.
 */
final class InMemoryTransport implements ClientHttpConnector {

	private static final HttpHeaders HEADERS = new HttpHeaders();

	static {
		HEADERS.set("content-type", "application/json");
		HEADERS.set("content-length", Integer.toString(Stub.COMPLETION.length));
	}

	@Override
	public Mono<ClientHttpResponse> connect(HttpMethod method, URI uri,
			Function<? super ClientHttpRequest, Mono<Void>> requestCallback) {
		return Mono.defer(() -> requestCallback.apply(new Request(method, uri)).then(Mono.fromSupplier(Response::new)));
	}

	private static final class Request extends AbstractClientHttpRequest {

		private final HttpMethod method;

		private final URI uri;

		Request(HttpMethod method, URI uri) {
			this.method = method;
			this.uri = uri;
		}

		@Override
		public HttpMethod getMethod() {
			return this.method;
		}

		@Override
		public URI getURI() {
			return this.uri;
		}

		@Override
		public DataBufferFactory bufferFactory() {
			return DefaultDataBufferFactory.sharedInstance;
		}

		@Override
		public <T> T getNativeRequest() {
			throw new UnsupportedOperationException();
		}

		@Override
		public Mono<Void> writeWith(Publisher<? extends DataBuffer> body) {
			return doCommit(() -> Flux.from(body).doOnNext(DataBufferUtils::release).then());
		}

		@Override
		public Mono<Void> writeAndFlushWith(Publisher<? extends Publisher<? extends DataBuffer>> body) {
			return writeWith(Flux.from(body).concatMap(Flux::from));
		}

		@Override
		public Mono<Void> setComplete() {
			return doCommit();
		}

		@Override
		protected void applyHeaders() {
		}

		@Override
		protected void applyCookies() {
		}

	}

	private static final class Response implements ClientHttpResponse {

		@Override
		public HttpStatusCode getStatusCode() {
			return HttpStatusCode.valueOf(200);
		}

		@Override
		public HttpHeaders getHeaders() {
			return HEADERS;
		}

		@Override
		public MultiValueMap<String, ResponseCookie> getCookies() {
			return new LinkedMultiValueMap<>();
		}

		@Override
		public Flux<DataBuffer> getBody() {
			return Flux.just(DefaultDataBufferFactory.sharedInstance.wrap(Stub.COMPLETION));
		}

	}

}
