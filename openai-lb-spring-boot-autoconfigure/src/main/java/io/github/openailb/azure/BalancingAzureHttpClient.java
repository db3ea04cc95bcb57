package io.github.openailb.azure;

import java.net.URL;
import java.nio.ByteBuffer;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;

import com.azure.core.http.HttpClient;
import com.azure.core.http.HttpHeader;
import com.azure.core.http.HttpHeaderName;
import com.azure.core.http.HttpHeaders;
import com.azure.core.http.HttpRequest;
import com.azure.core.http.HttpResponse;
import com.azure.core.util.BinaryData;
import com.azure.core.util.Context;
import com.azure.core.util.FluxUtil;
import io.github.openailb.transport.BalancingClientHttpConnector;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.core.io.buffer.DefaultDataBufferFactory;
import org.springframework.http.HttpMethod;
import org.springframework.http.client.reactive.ClientHttpResponse;

/**
 * An azure-core {@link HttpClient} that sends every request through the balancer, so an Azure SDK
 * client (such as the one Spring AI's {@code AzureOpenAiChatModel} builds) is balanced. The
 * request's scheme, host and port are ignored: only its path and query are sent, to the backend
 * the balancer chooses. The response body streams, so server-sent events arrive as they come.
 */
public final class BalancingAzureHttpClient implements HttpClient {

	private final BalancingClientHttpConnector connector;

	/**
	 * Create a client.
	 * @param connector the shared balanced transport
	 */
	public BalancingAzureHttpClient(BalancingClientHttpConnector connector) {
		this.connector = connector;
	}

	@Override
	public Mono<HttpResponse> send(HttpRequest request) {
		return send(request, Context.NONE);
	}

	@Override
	public Mono<HttpResponse> send(HttpRequest request, Context context) {
		HttpMethod method = HttpMethod.valueOf(request.getHttpMethod().name());
		org.springframework.http.HttpHeaders headers = new org.springframework.http.HttpHeaders();
		for (HttpHeader header : request.getHeaders()) {
			headers.addAll(header.getName(), header.getValuesList());
		}
		BinaryData held = request.getBodyAsBinaryData();
		if (held != null && held.isReplayable() && held.getLength() != null) {
			// a body the SDK already holds (its JSON): replayed as it is, neither streamed nor copied
			return this.connector.exchange(method, pathAndQuery(request.getUrl()), headers, held.toBytes())
				.map((response) -> new BalancedResponse(request, response));
		}
		// held once (up to openai.lb.max-request-body): the balancer replays it on each attempt
		Flux<DataBuffer> body = (request.getBody() != null)
				? request.getBody().map(BalancingAzureHttpClient::copy) : Flux.empty();
		return this.connector.exchange(method, pathAndQuery(request.getUrl()), headers, body)
			.map((response) -> new BalancedResponse(request, response));
	}

	/** A body's buffers may be reused once emitted: hold a copy. */
	private static DataBuffer copy(ByteBuffer buffer) {
		return DefaultDataBufferFactory.sharedInstance.allocateBuffer(buffer.remaining()).write(buffer);
	}

	static String pathAndQuery(URL url) {
		String path = (url.getPath() != null && !url.getPath().isEmpty()) ? url.getPath() : "/";
		return (url.getQuery() != null) ? path + "?" + url.getQuery() : path;
	}

	/** A Spring reactive answer seen as an azure-core response; the body is read once, as it streams. */
	private static final class BalancedResponse extends HttpResponse {

		private final ClientHttpResponse response;

		private final HttpHeaders headers;

		BalancedResponse(HttpRequest request, ClientHttpResponse response) {
			super(request);
			this.response = response;
			this.headers = new HttpHeaders();
			response.getHeaders()
				.forEach((name, values) -> values
					.forEach((value) -> this.headers.add(HttpHeaderName.fromString(name), value)));
		}

		@Override
		public int getStatusCode() {
			return this.response.getStatusCode().value();
		}

		@Override
		@Deprecated
		public String getHeaderValue(String name) {
			return this.headers.getValue(HttpHeaderName.fromString(name));
		}

		@Override
		public HttpHeaders getHeaders() {
			return this.headers;
		}

		@Override
		public Flux<ByteBuffer> getBody() {
			return this.response.getBody().map(BalancedResponse::toByteBuffer);
		}

		@Override
		public Mono<byte[]> getBodyAsByteArray() {
			return FluxUtil.collectBytesInByteBufferStream(getBody());
		}

		@Override
		public Mono<String> getBodyAsString() {
			return getBodyAsString(StandardCharsets.UTF_8);
		}

		@Override
		public Mono<String> getBodyAsString(Charset charset) {
			return getBodyAsByteArray().map((bytes) -> new String(bytes, charset));
		}

		private static ByteBuffer toByteBuffer(DataBuffer buffer) {
			byte[] bytes = new byte[buffer.readableByteCount()];
			buffer.read(bytes);
			DataBufferUtils.release(buffer);
			return ByteBuffer.wrap(bytes);
		}

	}

}
