# Demo student "dave": several classic bugs. Rounds 'same' down (floor),
# ignores the strides in conv2d, treats strides=None in pooling as stride 1,
# pads max pooling with zeros, returns float64 from average pooling, forgets
# the biases when counting. No conv2d_fast.

# %% conv2d_output_shape
def conv2d_output_shape(input_shape, filters, kernel_size, strides=(1, 1), padding="valid"):
    kh, kw = to_pair(kernel_size)
    sh, sw = to_pair(strides)
    h, w, _ = input_shape
    if padding == "same":
        return (h // sh, w // sw, filters)
    return ((h - kh) // sh + 1, (w - kw) // sw + 1, filters)

# %% conv2d
def conv2d(x, kernel, bias, strides=(1, 1), padding="valid"):
    kh, kw, c_in, c_out = kernel.shape
    if padding == "same":
        h, w = x.shape[:2]
        x = np.pad(x, (((kh - 1) // 2, kh // 2), ((kw - 1) // 2, kw // 2), (0, 0)))
    h_out, w_out = x.shape[0] - kh + 1, x.shape[1] - kw + 1
    out = np.zeros((h_out, w_out, c_out), dtype=x.dtype)
    for i in range(h_out):
        for j in range(w_out):
            out[i, j] = np.tensordot(x[i:i + kh, j:j + kw], kernel, axes=3) + bias
    return out

# %% pool2d_output_shape
def pool2d_output_shape(input_shape, pool_size, strides=None, padding="valid"):
    if strides is None:
        strides = 1
    return conv2d_output_shape(input_shape, input_shape[2], pool_size, strides, padding)

# %% max_pool2d
def max_pool2d(x, pool_size, strides=None, padding="valid"):
    ph, pw = to_pair(pool_size)
    sh, sw = to_pair(pool_size if strides is None else strides)
    h, w, c = x.shape
    if padding == "same":
        ho, wo = -(-h // sh), -(-w // sw)
        th, tw = max((ho - 1) * sh + ph - h, 0), max((wo - 1) * sw + pw - w, 0)
        x = np.pad(x, ((th // 2, th - th // 2), (tw // 2, tw - tw // 2), (0, 0)))
    else:
        ho, wo = (h - ph) // sh + 1, (w - pw) // sw + 1
    out = np.zeros((ho, wo, c), dtype=x.dtype)
    for i in range(ho):
        for j in range(wo):
            out[i, j] = x[i * sh:i * sh + ph, j * sw:j * sw + pw].max(axis=(0, 1))
    return out

# %% average_pool2d
def average_pool2d(x, pool_size, strides=None, padding="valid"):
    ph, pw = to_pair(pool_size)
    sh, sw = to_pair(pool_size if strides is None else strides)
    h, w, c = x.shape
    ho, wo = (h - ph) // sh + 1, (w - pw) // sw + 1
    out = np.zeros((ho, wo, c))
    for i in range(ho):
        for j in range(wo):
            out[i, j] = x[i * sh:i * sh + ph, j * sw:j * sw + pw].mean(axis=(0, 1))
    return out

# %% sequential_output_shapes
def sequential_output_shapes(input_shape, layers):
    shapes, shape = [], tuple(input_shape)
    for kind, kw in layers:
        if kind == "conv2d":
            shape = conv2d_output_shape(shape, kw["filters"], kw["kernel_size"], kw.get("strides", 1),
                                        kw.get("padding", "valid"))
        elif kind.endswith("pooling2d"):
            shape = pool2d_output_shape(shape, kw["pool_size"], kw.get("strides"), kw.get("padding", "valid"))
        elif kind == "flatten":
            shape = (int(np.prod(shape)),)
        elif kind == "reshape":
            shape = tuple(kw["target_shape"])
        elif kind == "dense":
            shape = shape[:-1] + (kw["units"],)
        shapes.append(shape)
    return shapes


def sequential_param_counts(input_shape, layers):
    counts, shape = [], tuple(input_shape)
    for (kind, kw), out in zip(layers, sequential_output_shapes(input_shape, layers)):
        if kind == "conv2d":
            kh, kw_ = to_pair(kw["kernel_size"])
            counts.append(kh * kw_ * shape[-1] * kw["filters"])
        elif kind == "dense":
            counts.append(shape[-1] * kw["units"])
        else:
            counts.append(0)
        shape = out
    return counts
