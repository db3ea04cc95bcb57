package io.github.openailb.openai;

import java.io.IOException;
import java.util.Objects;

import io.github.openailb.transport.BalancingClientHttpConnector;
import io.github.openailb.transport.BlockingExchange;
import okhttp3.Headers;
import okhttp3.Interceptor;
import okhttp3.MediaType;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.ResponseBody;
import okio.Buffer;
import okio.Okio;

import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.client.reactive.ClientHttpResponse;

/**
 * Balances the calls of the OpenAI Java SDK (and so of Spring AI 2's {@code OpenAiChatModel} and
 * {@code OpenAiEmbeddingModel}, blocking and streaming): an OkHttp application interceptor, last
 * in the chain, that hands every request aimed at the logical host
 * {@value BalancingClientHttpConnector#LOGICAL_HOST} to the shared
 * {@link BalancingClientHttpConnector} instead of OkHttp's network stack, and returns the
 * balanced answer as OkHttp's response, its body streamed as it arrives. Other hosts go on down
 * the chain untouched.
 */
public final class BalancingOkHttpInterceptor implements Interceptor {

	private final BalancingClientHttpConnector connector;

	/**
	 * Create an interceptor.
	 * @param connector the shared balanced transport
	 */
	public BalancingOkHttpInterceptor(BalancingClientHttpConnector connector) {
		this.connector = connector;
	}

	@Override
	public Response intercept(Chain chain) throws IOException {
		Request request = chain.request();
		if (!BalancingClientHttpConnector.LOGICAL_HOST.equalsIgnoreCase(request.url().host())) {
			return chain.proceed(request);
		}
		String query = request.url().encodedQuery();
		String pathAndQuery = request.url().encodedPath() + ((query != null) ? "?" + query : "");
		ClientHttpResponse answer = BlockingExchange.exchange(this.connector, HttpMethod.valueOf(request.method()),
				pathAndQuery, headers(request), body(request.body()), chain.call()::isCanceled);
		return response(request, answer);
	}

	/** OkHttp adds the body's headers after the application interceptors: add them here. */
	private static HttpHeaders headers(Request request) {
		HttpHeaders headers = new HttpHeaders();
		Headers in = request.headers();
		for (int i = 0; i < in.size(); i++) {
			headers.add(in.name(i), in.value(i));
		}
		RequestBody body = request.body();
		if (body != null && body.contentType() != null && !headers.containsHeader(HttpHeaders.CONTENT_TYPE)) {
			headers.set(HttpHeaders.CONTENT_TYPE, Objects.requireNonNull(body.contentType()).toString());
		}
		return headers;
	}

	private static byte[] body(RequestBody body) throws IOException {
		if (body == null) {
			return new byte[0];
		}
		Buffer buffer = new Buffer();
		body.writeTo(buffer);
		return buffer.readByteArray();
	}

	private static Response response(Request request, ClientHttpResponse answer) {
		Headers.Builder headers = new Headers.Builder();
		answer.getHeaders().forEach((name, values) -> values.forEach((value) -> headers.addUnsafeNonAscii(name, value)));
		String contentType = answer.getHeaders().getFirst(HttpHeaders.CONTENT_TYPE);
		long length = answer.getHeaders().getContentLength();
		ResponseBody body = ResponseBody.create(Okio.buffer(Okio.source(BlockingExchange.body(answer))),
				(contentType != null) ? MediaType.parse(contentType) : null, length);
		return new Response.Builder().request(request)
			.protocol(Protocol.HTTP_1_1)
			.code(answer.getStatusCode().value())
			.message("")
			.headers(headers.build())
			.body(body)
			.build();
	}

}
