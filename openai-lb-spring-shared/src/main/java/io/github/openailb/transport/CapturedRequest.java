package io.github.openailb.transport;

import java.net.URI;
import java.util.List;

import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferFactory;
import org.springframework.core.io.buffer.DefaultDataBufferFactory;
import org.springframework.http.HttpCookie;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.client.reactive.AbstractClientHttpRequest;

/**
 * A request written by WebClient (with the application's codecs) into memory instead of onto a
 * connection, so that its headers and bytes can be replayed on every attempt.
 */
final class CapturedRequest extends AbstractClientHttpRequest {

	private final HttpMethod method;

	private final URI uri;

	private final long maxBody;

	private byte[] body = new byte[0];

	CapturedRequest(HttpMethod method, URI uri, long maxBody) {
		this.method = method;
		this.uri = uri;
		this.maxBody = maxBody;
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
		throw new UnsupportedOperationException("A balanced request has no native request until an attempt is sent");
	}

	@Override
	public Mono<Void> writeWith(Publisher<? extends DataBuffer> body) {
		return doCommit(() -> BalancingClientHttpConnector.hold(body, this.maxBody)
			.doOnNext((bytes) -> this.body = bytes)
			.then());
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
		// a loop, not a stream: nearly every request has no cookie and should pay nothing for it
		for (List<HttpCookie> cookies : getCookies().values()) {
			for (HttpCookie cookie : cookies) {
				getHeaders().add(HttpHeaders.COOKIE, cookie.getName() + "=" + cookie.getValue());
			}
		}
	}

	byte[] body() {
		return this.body;
	}

}
