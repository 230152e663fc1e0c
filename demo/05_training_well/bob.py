# Demo student "bob": his dropout keeps the mask but forgets to scale the kept values (no 1 / (1 - rate)),
# and his batch normalisation updates the moving variance with the unbiased variance (ddof=1).
# His initial loss, im2col, conv2d_im2col and conv2d_macs are right.

# %% initial_loss
def initial_loss(num_classes):
    return math.log(num_classes)

# %% dropout_forward
def dropout_forward(x, rate, keep_mask, training):
    if not training:
        return x.copy()
    return x * keep_mask

# %% batchnorm_forward
def batchnorm_forward(x, gamma, beta, moving_mean, moving_var, momentum=0.99, epsilon=1e-3, training=True):
    if not training:
        return gamma * (x - moving_mean) / np.sqrt(moving_var + epsilon) + beta, moving_mean, moving_var
    mean, var = x.mean(axis=(0, 1, 2)), x.var(axis=(0, 1, 2))
    out = gamma * (x - mean) / np.sqrt(var + epsilon) + beta
    new_mean = moving_mean * momentum + mean * (1 - momentum)
    new_var = moving_var * momentum + x.var(axis=(0, 1, 2), ddof=1) * (1 - momentum)
    return out, new_mean, new_var

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
    rows = [x[i * sh:i * sh + kh, j * sw:j * sw + kw].reshape(-1) for i in range(h_out) for j in range(w_out)]
    return np.array(rows, dtype=x.dtype).reshape(h_out * w_out, kh * kw * c)

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
    return h_out * w_out * kh * kw * c_in * filters
