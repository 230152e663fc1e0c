# Demo student "alice": everything right. conv2d with loops over output positions,
# conv2d_fast with sliding_window_view and einsum. Expected: full marks.

# %% dense_param_count
def dense_param_count(input_shape, units):
    n = 1
    for d in input_shape:
        n *= d
    return n * units + units

# %% conv2d_param_count
def conv2d_param_count(in_channels, filters, kernel_size):
    kh, kw = to_pair(kernel_size)
    return kh * kw * in_channels * filters + filters

# %% correlate2d
def correlate2d(image, kernel):
    kh, kw = kernel.shape
    out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1), dtype=image.dtype)
    for a in range(kh):
        for b in range(kw):
            out += kernel[a, b] * image[a:a + out.shape[0], b:b + out.shape[1]]
    return out

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
