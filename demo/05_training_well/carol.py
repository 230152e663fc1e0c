# Demo student "carol": her im2col flattens each window channels first (as an image library stores (C, H, W)),
# so her conv2d_im2col, built on it, multiplies mismatched rows and kernel columns. Her conv2d_macs counts
# floating-point operations (2 per multiply-add), as TensorFlow's profiler reports them. Her initial loss uses
# the base-10 logarithm. Dropout and batch normalisation are right.

# %% initial_loss
def initial_loss(num_classes):
    return math.log10(num_classes)

# %% dropout_forward
def dropout_forward(x, rate, keep_mask, training):
    return (x * keep_mask / (1 - rate)).astype(x.dtype) if training else x.copy()

# %% batchnorm_forward
def batchnorm_forward(x, gamma, beta, moving_mean, moving_var, momentum=0.99, epsilon=1e-3, training=True):
    if training:
        mean, var = x.mean(axis=(0, 1, 2)), x.var(axis=(0, 1, 2))
        moving_mean = moving_mean * momentum + mean * (1 - momentum)
        moving_var = moving_var * momentum + var * (1 - momentum)
    else:
        mean, var = moving_mean, moving_var
    out = gamma * (x - mean) / np.sqrt(var + epsilon) + beta
    return out.astype(x.dtype), moving_mean.astype(x.dtype), moving_var.astype(x.dtype)

# %% im2col
def im2col(x, kernel_size, strides=(1, 1), padding="valid"):
    (kh, kw), (sh, sw) = to_pair(kernel_size), to_pair(strides)
    h, w, c = x.shape
    if padding == "same":
        h_out, w_out = -(-h // sh), -(-w // sw)
        th, tw = max((h_out - 1) * sh + kh - h, 0), max((w_out - 1) * sw + kw - w, 0)
        x = np.pad(x, ((th // 2, th - th // 2), (tw // 2, tw - tw // 2), (0, 0)))
    else:
        h_out, w_out = (h - kh) // sh + 1, (w - kw) // sw + 1
    cols = np.empty((h_out * w_out, kh * kw * c), dtype=x.dtype)
    for i in range(h_out):
        for j in range(w_out):
            cols[i * w_out + j] = x[i * sh:i * sh + kh, j * sw:j * sw + kw].transpose(2, 0, 1).reshape(-1)
    return cols

# %% conv2d_im2col
def conv2d_im2col(x, kernel, bias, strides=(1, 1), padding="valid"):
    kh, kw, c_in, c_out = kernel.shape
    (sh, sw), (h, w) = to_pair(strides), x.shape[:2]
    h_out, w_out = (-(-h // sh), -(-w // sw)) if padding == "same" else ((h - kh) // sh + 1, (w - kw) // sw + 1)
    out = im2col(x, (kh, kw), strides, padding) @ kernel.reshape(-1, c_out) + bias
    return out.reshape(h_out, w_out, c_out).astype(x.dtype)

# %% conv2d_macs
def conv2d_macs(input_shape, filters, kernel_size, strides=1, padding="valid"):
    h, w, c_in = input_shape
    (kh, kw), (sh, sw) = to_pair(kernel_size), to_pair(strides)
    h_out, w_out = (-(-h // sh), -(-w // sw)) if padding == "same" else ((h - kh) // sh + 1, (w - kw) // sw + 1)
    return 2 * h_out * w_out * kh * kw * c_in * filters
