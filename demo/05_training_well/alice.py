# Demo student "alice": every exercise right (a vectorised im2col with sliding_window_view).
# Expected: full marks.

# %% initial_loss
def initial_loss(num_classes):
    return float(np.log(num_classes))

# %% dropout_forward
def dropout_forward(x, rate, keep_mask, training):
    if not training:
        return x.copy()
    return np.where(keep_mask, x / (1 - rate), 0).astype(x.dtype)

# %% batchnorm_forward
def batchnorm_forward(x, gamma, beta, moving_mean, moving_var, momentum=0.99, epsilon=1e-3, training=True):
    axes = (0, 1, 2)
    if training:
        mean, var = x.mean(axis=axes), x.var(axis=axes)
        new_mean = momentum * moving_mean + (1 - momentum) * mean
        new_var = momentum * moving_var + (1 - momentum) * var
    else:
        mean, var, new_mean, new_var = moving_mean, moving_var, moving_mean.copy(), moving_var.copy()
    out = (x - mean) / np.sqrt(var + epsilon) * gamma + beta
    return out.astype(x.dtype), new_mean.astype(x.dtype), new_var.astype(x.dtype)

# %% im2col
def im2col(x, kernel_size, strides=(1, 1), padding="valid"):
    (kh, kw), (sh, sw) = to_pair(kernel_size), to_pair(strides)
    if padding == "same":
        h, w = x.shape[:2]
        th = max((-(-h // sh) - 1) * sh + kh - h, 0)
        tw = max((-(-w // sw) - 1) * sw + kw - w, 0)
        x = np.pad(x, ((th // 2, th - th // 2), (tw // 2, tw - tw // 2), (0, 0)))
    windows = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(0, 1))[::sh, ::sw]
    return windows.transpose(0, 1, 3, 4, 2).reshape(-1, kh * kw * x.shape[2]).copy()

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
    if padding == "same":
        return -(-h // sh) * -(-w // sw) * kh * kw * c_in * filters
    return ((h - kh) // sh + 1) * ((w - kw) // sw + 1) * kh * kw * c_in * filters
