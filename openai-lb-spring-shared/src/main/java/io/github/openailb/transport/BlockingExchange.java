package io.github.openailb.transport;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;

import reactor.core.Exceptions;

import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.client.reactive.ClientHttpResponse;

/**
 * One balanced exchange for a blocking caller (the {@code RestClient} request factory, the OkHttp
 * interceptor of the OpenAI SDK): the calling thread waits for the answer's status and headers,
 * then reads its body as a stream while it arrives.
 */
public final class BlockingExchange {

	/** How often a waiting caller checks whether its own client gave up on the call. */
	private static final long GIVE_UP_CHECK_MILLIS = 50;

	private BlockingExchange() {
	}

	/**
	 * Send one request through the balancer and wait for its answer.
	 * @param connector the balanced transport
	 * @param method the method
	 * @param rawPathAndQuery the encoded path and query
	 * @param headers the caller's headers
	 * @param body the request body
	 * @param callerGone tells whether the caller's own client cancelled the call; the balanced
	 * request is then cancelled too, so its connection closes and no backend is blamed
	 * @return the answer, whose body the caller must read or close
	 * @throws IOException when no backend answered (a
	 * {@link io.github.openailb.core.NoBackendAnsweredException}), or the caller was interrupted or
	 * gave up
	 */
	public static ClientHttpResponse exchange(BalancingClientHttpConnector connector, HttpMethod method,
			String rawPathAndQuery, HttpHeaders headers, byte[] body, BooleanSupplier callerGone) throws IOException {
		CompletableFuture<ClientHttpResponse> answer = connector.exchange(method, rawPathAndQuery, headers, body)
			.toFuture();
		try {
			while (true) {
				try {
					return answer.get(GIVE_UP_CHECK_MILLIS, TimeUnit.MILLISECONDS);
				}
				catch (TimeoutException ex) {
					if (callerGone.getAsBoolean()) {
						answer.cancel(true);
						throw new InterruptedIOException("The caller cancelled the balanced call");
					}
				}
			}
		}
		catch (InterruptedException ex) {
			// the caller gave up: cancel the attempt so its connection closes and no backend is blamed
			answer.cancel(true);
			Thread.currentThread().interrupt();
			throw new InterruptedIOException("Interrupted while waiting for a balanced answer");
		}
		catch (ExecutionException ex) {
			Throwable cause = ex.getCause();
			if (cause instanceof IOException io) {
				throw io;
			}
			throw new IOException(cause.getMessage(), cause);
		}
	}

	/**
	 * The body of an answer as a blocking stream; closing it cancels the rest of the body. A body
	 * that breaks (a backend gone, {@code max-duration} passed) ends in an {@link IOException}, as
	 * a blocking reader expects, not in Reactor's unchecked wrapper of the error.
	 * @param response the answer
	 * @return the body
	 */
	public static InputStream body(ClientHttpResponse response) {
		return new FilterInputStream(DataBufferUtils.subscriberInputStream(response.getBody(), 4)) {
			@Override
			public int read() throws IOException {
				try {
					return super.read();
				}
				catch (RuntimeException ex) {
					throw broken(ex);
				}
			}

			@Override
			public int read(byte[] bytes, int offset, int length) throws IOException {
				try {
					return super.read(bytes, offset, length);
				}
				catch (RuntimeException ex) {
					throw broken(ex);
				}
			}
		};
	}

	private static IOException broken(RuntimeException ex) {
		Throwable cause = Exceptions.unwrap(ex);
		return (cause instanceof IOException io) ? io : new IOException(cause.getMessage(), cause);
	}

}
