package io.github.openailb.transport;

import java.net.URI;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.function.Supplier;

import org.reactivestreams.Publisher;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Operators;
import reactor.util.context.Context;

import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferFactory;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.core.io.buffer.DefaultDataBufferFactory;
import org.springframework.http.HttpCookie;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.client.reactive.ClientHttpRequest;
import org.springframework.util.Assert;
import org.springframework.util.CollectionUtils;
import org.springframework.util.LinkedCaseInsensitiveMap;
import org.springframework.util.LinkedMultiValueMap;
import org.springframework.util.MultiValueMap;

/**
 * A request written by WebClient (with the application's codecs) into memory instead of onto a
 * connection, so that its headers and bytes can be replayed on every attempt.
 * <p>
 * It keeps the contract of Spring's {@code AbstractClientHttpRequest} that callers can observe
 * ({@code beforeCommit} actions run once, in order, while headers can still change; headers,
 * cookies and attributes read-only once committed; a second write ignored) without its
 * per-request allocations (a state reference, an action list, a cookie map before a cookie is
 * added, an attribute map before one is asked for) or an operator chain to join a body that
 * arrives as one buffer.
 */
final class CapturedRequest implements ClientHttpRequest {

	private static final byte[] NO_BODY = new byte[0];

	private static final MultiValueMap<String, HttpCookie> NO_COOKIES = CollectionUtils
		.unmodifiableMultiValueMap(new LinkedMultiValueMap<>(0));

	private static final int NEW = 0;

	private static final int COMMITTING = 1;

	private static final int COMMITTED = 2;

	private static final AtomicIntegerFieldUpdater<CapturedRequest> STATE = AtomicIntegerFieldUpdater
		.newUpdater(CapturedRequest.class, "state");

	private final HttpMethod method;

	private final URI uri;

	private final long maxBody;

	/** Sized for the handful of headers a call carries (a larger map grows as usual). */
	private final HttpHeaders headers = new HttpHeaders(
			CollectionUtils.toMultiValueMap(new LinkedCaseInsensitiveMap<>(6, Locale.ENGLISH)));

	private HttpHeaders readOnlyHeaders;

	private MultiValueMap<String, HttpCookie> cookies;

	private Map<String, Object> attributes;

	private List<Supplier<? extends Mono<Void>>> commitActions;

	private volatile int state;

	private byte[] body = NO_BODY;

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
	public HttpHeaders getHeaders() {
		if (this.readOnlyHeaders != null) {
			return this.readOnlyHeaders;
		}
		if (this.state == COMMITTED) {
			this.readOnlyHeaders = HttpHeaders.readOnlyHttpHeaders(this.headers);
			return this.readOnlyHeaders;
		}
		return this.headers;
	}

	@Override
	public MultiValueMap<String, HttpCookie> getCookies() {
		if (this.state == COMMITTED) {
			return (this.cookies != null) ? CollectionUtils.unmodifiableMultiValueMap(this.cookies) : NO_COOKIES;
		}
		return (this.cookies != null) ? this.cookies : new Cookies();
	}

	@Override
	public Map<String, Object> getAttributes() {
		if (this.state == COMMITTED) {
			return (this.attributes != null) ? Collections.unmodifiableMap(this.attributes) : Collections.emptyMap();
		}
		if (this.attributes == null) {
			this.attributes = new HashMap<>();
		}
		return this.attributes;
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
	public void beforeCommit(Supplier<? extends Mono<Void>> action) {
		Assert.notNull(action, "Action must not be null");
		if (this.commitActions == null) {
			this.commitActions = new ArrayList<>(2);
		}
		this.commitActions.add(action);
	}

	@Override
	public boolean isCommitted() {
		return this.state != NEW;
	}

	@Override
	public Mono<Void> writeWith(Publisher<? extends DataBuffer> body) {
		return commit(body);
	}

	@Override
	public Mono<Void> writeAndFlushWith(Publisher<? extends Publisher<? extends DataBuffer>> body) {
		return writeWith(Flux.from(body).concatMap(Flux::from));
	}

	@Override
	public Mono<Void> setComplete() {
		return commit(null);
	}

	byte[] body() {
		return this.body;
	}

	/**
	 * The headers as written, for the connector to replay: its read-only view would wrap every
	 * value list it hands out.
	 */
	HttpHeaders writtenHeaders() {
		return this.headers;
	}

	/**
	 * Like Spring's {@code doCommit}: only the first write counts, and the {@code beforeCommit}
	 * actions (taken from their suppliers now) run before the headers are final.
	 */
	private Mono<Void> commit(Publisher<? extends DataBuffer> body) {
		if (!STATE.compareAndSet(this, NEW, COMMITTING)) {
			return Mono.empty();
		}
		Mono<Void> write = new Write(this, body);
		if (this.commitActions == null) {
			return write;
		}
		List<Mono<Void>> actions = new ArrayList<>(this.commitActions.size());
		for (Supplier<? extends Mono<Void>> action : this.commitActions) {
			actions.add(action.get());
		}
		return Flux.concat(actions).then(write);
	}

	private void committed() {
		// a loop, not a stream: nearly every request has no cookie and should pay nothing for it
		if (this.cookies != null) {
			for (List<HttpCookie> cookies : this.cookies.values()) {
				for (HttpCookie cookie : cookies) {
					this.headers.add(HttpHeaders.COOKIE, cookie.getName() + "=" + cookie.getValue());
				}
			}
		}
		this.state = COMMITTED;
	}

	private MultiValueMap<String, HttpCookie> cookies() {
		if (this.cookies == null) {
			this.cookies = new LinkedMultiValueMap<>(2);
		}
		return this.cookies;
	}

	/**
	 * The cookies WebClient asks for on every request and adds to on nearly none: their map is
	 * made when the first one is added.
	 */
	private final class Cookies extends AbstractMap<String, List<HttpCookie>>
			implements MultiValueMap<String, HttpCookie> {

		private Map<String, List<HttpCookie>> current() {
			return (CapturedRequest.this.cookies != null) ? CapturedRequest.this.cookies : Collections.emptyMap();
		}

		@Override
		public Set<Entry<String, List<HttpCookie>>> entrySet() {
			return current().entrySet();
		}

		@Override
		public List<HttpCookie> get(Object key) {
			return current().get(key);
		}

		@Override
		public boolean containsKey(Object key) {
			return current().containsKey(key);
		}

		@Override
		public List<HttpCookie> put(String key, List<HttpCookie> value) {
			return cookies().put(key, value);
		}

		@Override
		public HttpCookie getFirst(String key) {
			return (CapturedRequest.this.cookies != null) ? CapturedRequest.this.cookies.getFirst(key) : null;
		}

		@Override
		public void add(String key, HttpCookie value) {
			cookies().add(key, value);
		}

		@Override
		public void addAll(String key, List<? extends HttpCookie> values) {
			cookies().addAll(key, values);
		}

		@Override
		public void addAll(MultiValueMap<String, HttpCookie> values) {
			cookies().addAll(values);
		}

		@Override
		public void set(String key, HttpCookie value) {
			cookies().set(key, value);
		}

		@Override
		public void setAll(Map<String, HttpCookie> values) {
			cookies().setAll(values);
		}

		@Override
		public Map<String, HttpCookie> toSingleValueMap() {
			return (CapturedRequest.this.cookies != null) ? CapturedRequest.this.cookies.toSingleValueMap()
					: new LinkedHashMap<>();
		}

	}

	/** The headers made final, then the body, if any, held. */
	private static final class Write extends Mono<Void> {

		private final CapturedRequest request;

		private final Publisher<? extends DataBuffer> body;

		Write(CapturedRequest request, Publisher<? extends DataBuffer> body) {
			this.request = request;
			this.body = body;
		}

		@Override
		public void subscribe(CoreSubscriber<? super Void> actual) {
			this.request.committed();
			if (this.body == null) {
				Operators.complete(actual);
				return;
			}
			this.body.subscribe(new Hold(this.request, actual));
		}

	}

	/**
	 * Holds a body as it arrives, up to the limit. An encoder writes one buffer, taken as it is
	 * (its array when the buffer is exactly that, as {@code DataBufferUtils.join} would not); more
	 * are copied into one array.
	 */
	private static final class Hold implements CoreSubscriber<DataBuffer>, Subscription {

		private final CapturedRequest request;

		private final CoreSubscriber<? super Void> actual;

		private Subscription upstream;

		private DataBuffer first;

		private List<DataBuffer> more;

		private long size;

		private boolean done;

		Hold(CapturedRequest request, CoreSubscriber<? super Void> actual) {
			this.request = request;
			this.actual = actual;
		}

		@Override
		public Context currentContext() {
			return this.actual.currentContext();
		}

		@Override
		public void onSubscribe(Subscription s) {
			if (Operators.validate(this.upstream, s)) {
				this.upstream = s;
				this.actual.onSubscribe(this);
				s.request(Long.MAX_VALUE);
			}
		}

		@Override
		public void onNext(DataBuffer buffer) {
			boolean tooLarge;
			synchronized (this) {
				if (this.done) {
					DataBufferUtils.release(buffer);
					return;
				}
				this.size += buffer.readableByteCount();
				tooLarge = this.size > this.request.maxBody;
				if (tooLarge) {
					this.done = true;
					DataBufferUtils.release(buffer);
					releaseHeld();
				}
				else if (this.first == null && this.more == null) {
					this.first = buffer;
				}
				else {
					if (this.more == null) {
						this.more = new ArrayList<>();
						this.more.add(this.first);
						this.first = null;
					}
					this.more.add(buffer);
				}
			}
			if (tooLarge) {
				this.upstream.cancel();
				this.actual.onError(new RequestTooLargeException(-1, this.request.maxBody));
			}
		}

		@Override
		public void onError(Throwable ex) {
			synchronized (this) {
				if (this.done) {
					return;
				}
				this.done = true;
				releaseHeld();
			}
			this.actual.onError(ex);
		}

		@Override
		public void onComplete() {
			byte[] bytes;
			synchronized (this) {
				if (this.done) {
					return;
				}
				this.done = true;
				bytes = take();
			}
			this.request.body = bytes;
			this.actual.onComplete();
		}

		@Override
		public void request(long n) {
			// nothing to deliver downstream but completion
		}

		@Override
		public void cancel() {
			synchronized (this) {
				this.done = true;
				releaseHeld();
			}
			this.upstream.cancel();
		}

		private byte[] take() {
			if (this.first != null) {
				return BalancingClientHttpConnector.bytes(this.first);
			}
			if (this.more == null) {
				return NO_BODY;
			}
			byte[] bytes = new byte[(int) this.size];
			int offset = 0;
			for (DataBuffer buffer : this.more) {
				int count = buffer.readableByteCount();
				buffer.read(bytes, offset, count);
				offset += count;
				DataBufferUtils.release(buffer);
			}
			return bytes;
		}

		private void releaseHeld() {
			if (this.first != null) {
				DataBufferUtils.release(this.first);
				this.first = null;
			}
			if (this.more != null) {
				this.more.forEach(DataBufferUtils::release);
				this.more = null;
			}
		}

	}

}
