package io.github.openailb.transport;

import reactor.core.publisher.Flux;

import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DefaultDataBufferFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.ResponseCookie;
import org.springframework.http.client.reactive.ClientHttpResponse;
import org.springframework.util.LinkedMultiValueMap;
import org.springframework.util.MultiValueMap;

/**
 * An answer held in memory: a backend's (small) error answer kept in case it is the last one,
 * or the balancer's own synthetic 429.
 */
final class BufferedResponse implements ClientHttpResponse {

	private final HttpStatusCode status;

	private final HttpHeaders headers;

	private final byte[] body;

	BufferedResponse(HttpStatusCode status, HttpHeaders headers, byte[] body) {
		this.status = status;
		this.headers = HttpHeaders.readOnlyHttpHeaders(headers);
		this.body = body;
	}

	@Override
	public HttpStatusCode getStatusCode() {
		return this.status;
	}

	@Override
	public HttpHeaders getHeaders() {
		return this.headers;
	}

	@Override
	public MultiValueMap<String, ResponseCookie> getCookies() {
		return new LinkedMultiValueMap<>();
	}

	@Override
	public Flux<DataBuffer> getBody() {
		return Flux.defer(() -> Flux.just(DefaultDataBufferFactory.sharedInstance.wrap(this.body)));
	}

	byte[] bytes() {
		return this.body;
	}

}
