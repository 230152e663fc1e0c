# Demo student "alice": everything right, written in a vectorized style
# (sliding_window_view for the pooling; conv2d with loops over output positions,
# conv2d_fast with sliding_window_view and einsum). Expected: full marks.

# %% conv2d_output_shape
def conv2d_output_shape(input_shape, filters, kernel_size, strides=(1, 1), padding="valid"):
    kh, kw = to_pair(kernel_size)
    sh, sw = to_pair(strides)
    h, w = input_shape[0], input_shape[1]
    if padding == "same":
        return (math.ceil(h / sh), math.ceil(w / sw), filters)
    return ((h - kh) // sh + 1, (w - kw) // sw + 1, filters)

# %% conv2d
def same_pad(x, kh, kw, sh, sw):
    h, w = x.shape[0], x.shape[1]
    th = max((math.ceil(h / sh) - 1) * sh + kh - h, 0)
    tw = max((math.ceil(w / sw) - 1) * sw + kw - w, 0)
    return np.pad(x, ((th // 2, th - th // 2), (tw // 2, tw - tw // 2), (0, 0)))

def conv2d(x, kernel, bias, strides=(1, 1), padding="valid"):
    kh, kw, c_in, c_out = kernel.shape
    sh, sw = to_pair(strides)
    if padding == "same":
        x = same_pad(x, kh, kw, sh, sw)
    h_out = (x.shape[0] - kh) // sh + 1
    w_out = (x.shape[1] - kw) // sw + 1
    out = np.zeros((h_out, w_out, c_out), dtype=x.dtype)
    for i in range(h_out):
        for j in range(w_out):
            for o in range(c_out):
                window = x[i * sh:i * sh + kh, j * sw:j * sw + kw, :]
                out[i, j, o] = np.sum(window * kernel[:, :, :, o]) + bias[o]
    return out

# %% conv2d_fast
def conv2d_fast(x, kernel, bias, strides=(1, 1), padding="valid"):
    kh, kw, c_in, c_out = kernel.shape
    sh, sw = to_pair(strides)
    if padding == "same":
        x = same_pad(x, kh, kw, sh, sw)
    windows = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(0, 1))[::sh, ::sw]
    out = np.einsum("ijcab,abco->ijo", windows, kernel) + bias
    return out.astype(x.dtype)

# %% pool2d_output_shape
def pool2d_output_shape(input_shape, pool_size, strides=None, padding="valid"):
    if strides is None:
        strides = pool_size
    return conv2d_output_shape(input_shape, input_shape[2], pool_size, strides, padding)

# %% max_pool2d
def _pool(x, pool_size, strides, padding, reduce):
    ph, pw = to_pair(pool_size)
    sh, sw = to_pair(pool_size if strides is None else strides)
    h, w, c = x.shape
    ho, wo, _ = pool2d_output_shape(x.shape, (ph, pw), (sh, sw), padding)
    if padding == "same":
        th = max((ho - 1) * sh + ph - h, 0)
        tw = max((wo - 1) * sw + pw - w, 0)
        x = np.pad(x, ((th // 2, th - th // 2), (tw // 2, tw - tw // 2), (0, 0)), constant_values=np.nan)
    windows = np.lib.stride_tricks.sliding_window_view(x, (ph, pw), axis=(0, 1))[::sh, ::sw]
    return reduce(windows, axis=(3, 4)).astype(x.dtype)

def max_pool2d(x, pool_size, strides=None, padding="valid"):
    return _pool(x, pool_size, strides, padding, np.nanmax)

# %% average_pool2d
def average_pool2d(x, pool_size, strides=None, padding="valid"):
    return _pool(x, pool_size, strides, padding, np.nanmean)

# %% sequential_output_shapes
def sequential_output_shapes(input_shape, layers):
    return [shape for shape, _ in walk(input_shape, layers)]


def sequential_param_counts(input_shape, layers):
    return [params for _, params in walk(input_shape, layers)]


def walk(shape, layers):
    out = []
    for kind, kw in layers:
        params = 0
        if kind == "conv2d":
            kh, kw_ = to_pair(kw["kernel_size"])
            params = kh * kw_ * shape[-1] * kw["filters"] + kw["filters"]
            shape = conv2d_output_shape(shape, kw["filters"], kw["kernel_size"], kw.get("strides", 1),
                                        kw.get("padding", "valid"))
        elif kind.endswith("pooling2d"):
            shape = pool2d_output_shape(shape, kw["pool_size"], kw.get("strides"), kw.get("padding", "valid"))
        elif kind == "flatten":
            shape = (int(np.prod(shape)),)
        elif kind == "reshape":
            target = list(kw["target_shape"])
            if -1 in target:
                target[target.index(-1)] = int(np.prod(shape)) // -int(np.prod(target))
            shape = tuple(target)
        elif kind == "dense":
            params = (shape[-1] + 1) * kw["units"]
            shape = tuple(shape[:-1]) + (kw["units"],)
        out.append((tuple(shape), params))
    return out
